"""ThermoMavenApi against the fake HTTPS cloud: login, lists, certificate, commands, re-login."""

from __future__ import annotations

import asyncio
import hashlib
import json

import aiohttp
from aiohttp import web
import pytest

from custom_components.iot_hub.core.thermomaven.api import ThermoMavenApi, password_md5
from custom_components.iot_hub.core.thermomaven.certificates import p12_to_pem
from custom_components.iot_hub.core.thermomaven.commands import (
    CookingAction,
    change_target,
    end_cook,
    start_cook,
)
from custom_components.iot_hub.core.thermomaven.errors import (
    AuthError,
    ChecksumMismatch,
    RegionError,
    SignError,
    UnexpectedAnswer,
)
from custom_components.iot_hub.core.thermomaven.models import TemperatureUnit

from .conftest import DEVICE_SN, P12_PASSWORD, MakeApi
from .fake_cloud import EMAIL, PASSWORD_MD5, USER_ID, FakeCloud, expected_sign, ok

LOGIN = "/app/account/login"
OWNED = "/app/device/share/my/device/list"
SHARED = "/app/device/share/shared/device/list"
CERT = "/app/mqtt/cert/apply"
SEND = "/app/command/send"
SHARED_DEVICE = {
    "deviceShareId": 243700000000000001,
    "deviceSn": "WTA0CC30A14A6B2ESA",
    "deviceName": "ThermoMaven G1 - 2ESA",
    "deviceModel": "WT10",
    "fromUserName": "Owner Name",
    "shareStatus": "accepted",
}


async def test_login_signs_lowercases_and_keeps_the_token(
    cloud: FakeCloud, make_api: MakeApi
) -> None:
    api = make_api(clock=lambda: 1760000000000, nonce=lambda: "0" * 31 + "1")
    account = await api.login("  User@Example.COM ", password_md5("hunter2"))
    assert account.token == "token1" == api.token
    assert account.user_id == str(USER_ID)
    assert account.user_name == "Pit Master"
    assert account.email == EMAIL
    assert account.temperature_unit is TemperatureUnit.FAHRENHEIT
    assert api.account == account
    assert "token1" not in repr(account)
    [request] = cloud.requests
    assert request.path == LOGIN
    assert request.body == (
        b'{"accountName":"user@example.com","accountPassword":"2ab96390c7dbe3439de74d0c9b0b1767",'
        b'"deviceInfo":"homeassistant thermomaven"}'
    )
    # Same headers and body as the protocol notes' first test vector.
    assert request.headers["x-sign"] == "63e84ac30b12afc83058926701c606b7"
    assert request.headers["x-deviceSn"] == DEVICE_SN
    assert request.headers["x-region"] == "US"


async def test_device_lists_are_signed_empty_bodies(cloud: FakeCloud, make_api: MakeApi) -> None:
    cloud.shared = [SHARED_DEVICE, "junk", {"deviceName": "no ids"}]  # type: ignore[list-item]
    cloud.owned = [{"deviceId": "216510650012434433", "deviceSn": "WTB1", "deviceModel": "WT11"}]
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    [owned] = await api.owned_devices()
    [shared] = await api.shared_devices()
    assert owned.device_id == "216510650012434433"
    assert shared.device_id is None
    assert shared.device_share_id == "243700000000000001"
    assert (shared.device_sn, shared.model, shared.share_status) == (
        "WTA0CC30A14A6B2ESA",
        "WT10",
        "accepted",
    )
    for request in cloud.requests[1:]:
        assert request.body == b""
        assert request.headers["x-token"] == "token1"
        assert request.headers["x-sign"] == expected_sign(request.headers, b"")


async def test_certificate_apply_download_and_pem(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    grant = await api.apply_certificate()
    assert grant.p12_url == f"{cloud.base}/mqtt-cert/8f1e2d3c4b5a.p12"
    assert grant.p12_md5 == hashlib.md5(cloud.p12).hexdigest()
    assert grant.p12_password == P12_PASSWORD
    assert P12_PASSWORD not in repr(grant)
    assert grant.client_id == f"android-{USER_ID}-US-{DEVICE_SN}"
    assert grant.sub_topics == (f"app/user/{USER_ID}/sub",)
    p12 = await api.download_p12(grant)
    assert p12 == cloud.p12
    assert "x-token" not in cloud.requests[-1].headers
    material = p12_to_pem(p12, grant.p12_password)
    assert material.cert_pem.startswith("-----BEGIN CERTIFICATE-----")


async def test_p12_md5_mismatch_is_refused(cloud: FakeCloud, make_api: MakeApi) -> None:
    cloud.p12_md5 = "0" * 32
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    grant = await api.apply_certificate()
    with pytest.raises(ChecksumMismatch):
        await api.download_p12(grant)


async def test_commands_are_sent_compact_and_signed(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    start = start_cook("216510650012434433", "WT11", "probe1", target=205.0, cmd_id="c0ffee" * 5)
    assert await api.send_command(start) == "c0ffee" * 5
    body = cloud.requests[-1].body
    assert b" " not in body.replace(b"Home Assistant cook", b"")
    assert cloud.requests[-1].headers["x-sign"] == expected_sign(cloud.requests[-1].headers, body)
    sent = json.loads(body)
    assert sent["cmdType"] == "WT11:cooking:action"
    assert sent["deviceType"] == "thermometer"
    assert sent["cmdData"]["setParams"] == [{"setTemperature": 2050}]
    assert sent["cmdData"]["cookingAction"] == 1
    change = change_target(
        "216510650012434433",
        "WT11",
        "probe1",
        target=210,
        cook_uuid="0f8e7d6c5b4a39281706f5e4d3c2b1a0",
        start_client="device",
        cooking_mode="manual",
    )
    cloud.script(SEND, ok({"cmdId": "feedfacefeedfacefeedfacefeedface"}))
    assert await api.send_command(change) == "feedfacefeedfacefeedfacefeedface"
    assert json.loads(cloud.requests[-1].body)["cmdData"]["cookingData"] is None
    stop = end_cook(
        "216510650012434433", "WT11", "probe1", cook_uuid="0f8e7d6c5b4a39281706f5e4d3c2b1a0"
    )
    await api.send_command(stop)
    assert json.loads(cloud.requests[-1].body)["cmdData"] == {
        "probeColor": "probe1",
        "cookingAction": int(CookingAction.STOP),
        "cookUuid": "0f8e7d6c5b4a39281706f5e4d3c2b1a0",
    }


async def test_unknown_code_logs_in_again_once_then_succeeds(
    cloud: FakeCloud, make_api: MakeApi
) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    cloud.expire_tokens()
    assert await api.owned_devices() == ()
    assert cloud.paths() == [LOGIN, OWNED, LOGIN, OWNED]
    assert api.token == "token2"
    assert cloud.requests[-1].headers["x-token"] == "token2"


async def test_unknown_code_after_a_fresh_login_is_unexpected(
    cloud: FakeCloud, make_api: MakeApi
) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    cloud.script(OWNED, {"code": "5001", "msg": "busy"}, {"code": "5001", "msg": "busy"})
    with pytest.raises(UnexpectedAnswer, match="5001") as info:
        await api.owned_devices()
    assert info.value.code == "5001"
    assert cloud.paths() == [LOGIN, OWNED, LOGIN, OWNED]


async def test_relogin_refused_is_auth_error(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    cloud.expire_tokens()
    cloud.script(LOGIN, {"code": "41001", "msg": "Invalid credentials", "data": None})
    with pytest.raises(AuthError, match="41001"):
        await api.shared_devices()
    assert api.token is None
    assert cloud.paths() == [LOGIN, SHARED, LOGIN]


async def test_wrong_password_is_auth_error_and_not_kept(
    cloud: FakeCloud, make_api: MakeApi
) -> None:
    api = make_api()
    with pytest.raises(AuthError, match="check account and region"):
        await api.login(EMAIL, password_md5("wrong"))
    with pytest.raises(AuthError, match="no credentials"):
        await api.owned_devices()
    with pytest.raises(AuthError, match="email"):
        await api.login("   ", PASSWORD_MD5)
    assert cloud.paths() == [LOGIN]


async def test_sign_error_on_login_and_on_calls(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    api._signer._app_key = "adfjk2389248918ddz2f3329vv238jdf"  # a decoy key of the app
    with pytest.raises(SignError, match="40000"):
        await api.login(EMAIL, PASSWORD_MD5)
    good = make_api()
    await good.login(EMAIL, PASSWORD_MD5)
    cloud.script(CERT, {"code": "40000", "msg": "Sign error", "data": None})
    with pytest.raises(SignError, match="Sign error"):
        await good.apply_certificate()
    assert cloud.paths() == [LOGIN, LOGIN, CERT]


async def test_sign_error_from_the_de_data_centre_says_so(
    cloud: FakeCloud, make_api: MakeApi
) -> None:
    api = make_api(region="DE")
    cloud.script(LOGIN, {"code": 40000, "msg": "Sign error"})
    with pytest.raises(SignError, match="only proven on the US"):
        await api.login(EMAIL, PASSWORD_MD5)
    assert cloud.requests[-1].headers["x-region"] == "DE"


async def test_lazy_login_and_saved_token(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    api.set_credentials(" USER@example.com", PASSWORD_MD5.upper())
    assert await api.shared_devices() == ()
    assert cloud.paths() == [LOGIN, SHARED]
    saved = make_api()
    saved.set_credentials(EMAIL, PASSWORD_MD5, token="token1")
    await saved.owned_devices()
    assert cloud.paths()[-1] == OWNED
    assert len(cloud.paths()) == 3
    broken = make_api()
    broken.set_credentials(EMAIL, PASSWORD_MD5, token="tok\r\nx-evil: 1")
    assert broken.token is None
    await broken.owned_devices()
    assert cloud.paths()[-2:] == [LOGIN, OWNED]


async def test_plaintext_password_is_a_programming_error(make_api: MakeApi) -> None:
    api = make_api()
    with pytest.raises(ValueError, match="MD5"):
        await api.login(EMAIL, "hunter2")
    with pytest.raises(ValueError, match="MD5"):
        api.set_credentials(EMAIL, "x" * 32)


async def test_concurrent_calls_share_one_relogin(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    cloud.expire_tokens()
    await asyncio.gather(api.owned_devices(), api.shared_devices(), api.owned_devices())
    assert cloud.paths().count(LOGIN) == 2


async def test_http_401_counts_as_an_unknown_code(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    cloud.script(OWNED, web.Response(status=401))
    assert await api.owned_devices() == ()
    assert cloud.paths() == [LOGIN, OWNED, LOGIN, OWNED]
    cloud.script(LOGIN, web.Response(status=403))
    with pytest.raises(AuthError, match="HTTP 403"):
        await api.login(EMAIL, PASSWORD_MD5)


def test_constructor_validates_region_and_base_url(session: aiohttp.ClientSession) -> None:
    with pytest.raises(RegionError):
        ThermoMavenApi(session, region="GB", device_sn=DEVICE_SN)
    for url in ("ftp://example.com", "https://example.com/api", "https://"):
        with pytest.raises(ValueError, match="base_url"):
            ThermoMavenApi(session, region="US", device_sn=DEVICE_SN, base_url=url)
    api = ThermoMavenApi(session, region="za", device_sn=DEVICE_SN)
    assert api.base_url == "https://api.iot.thermomaven.de"
    assert api.region.code == "ZA"
    assert ThermoMavenApi(session, region="NZ", device_sn=DEVICE_SN).base_url == (
        "https://api.iot.thermomaven.com"
    )
    assert api.token is None
    assert api.account is None
