"""Hostile or broken clouds: the client raises only its typed errors, whatever comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import socket
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.iot_hub.core.thermomaven.api import MAX_P12_BYTES, ThermoMavenApi
from custom_components.iot_hub.core.thermomaven.errors import (
    AuthError,
    CloudUnavailable,
    ThermoMavenError,
    UnexpectedAnswer,
)
from custom_components.iot_hub.core.thermomaven.models import CertificateGrant

from .conftest import DEVICE_SN, MakeApi
from .fake_cloud import EMAIL, PASSWORD_MD5, FakeCloud, ok

LOGIN = "/app/account/login"
OWNED = "/app/device/share/my/device/list"
CERT = "/app/mqtt/cert/apply"
MIB = 1024 * 1024


async def _huge_chunked(request: web.Request) -> web.StreamResponse:
    """An endless-looking chunked body (no Content-Length)."""
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        for _ in range(40):
            await response.write(b" " * 64 * 1024)
    return response


async def _slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(5)
    return web.json_response(ok(None))


HOSTILE_LOGIN_ANSWERS: list[Any] = [
    b"not json",
    b"",
    b"[1, 2, 3]",
    b'"a string"',
    b"{}",
    b'{"code": true}',
    b'{"code": null, "data": {}}',
    b'{"code": ["0"]}',
    b'{"code": "' + b"0" * 100 + b'"}',
    b'{"code": "0", "data": NaN}',
    b'{"code": 1e999}',
    b"[" * 5000 + b"]" * 5000,
    b'{"code":"0","data":' + b'{"a":' * 2000 + b"1" + b"}" * 2000 + b"}",
    b'{"code": "0", "data": null}',
    b'{"code": "0", "data": []}',
    b'{"code": "0", "data": {"token": ""}}',
    b'{"code": "0", "data": {"token": 12345}}',
    b'{"code": "0", "data": {"token": "abc\\r\\nx-evil: 1"}}',
    b'{"code": "0", "data": {"token": "' + b"t" * 600 + b'"}}',
    b"\xff\xfe\x00garbage",
    b'{"code": "0", "data": {"token": "ok"}, "pad": "' + b"x" * (MIB + 10) + b'"}',
    _huge_chunked,
    web.Response(status=404),
    web.Response(status=302, headers={"Location": "https://evil.example/"}),
    web.Response(status=204),
]


@pytest.mark.parametrize("answer", HOSTILE_LOGIN_ANSWERS)
async def test_hostile_login_answers_are_unexpected(
    cloud: FakeCloud, make_api: MakeApi, answer: Any
) -> None:
    cloud.script(LOGIN, answer)
    api = make_api()
    with pytest.raises(UnexpectedAnswer):
        await api.login(EMAIL, PASSWORD_MD5)
    assert api.token is None


async def test_a_nested_but_valid_token_answer_still_logs_in(
    cloud: FakeCloud, make_api: MakeApi
) -> None:
    data = {"token": "tok", "userId": "x" * 500, "user": [], "setting": {"temperatureUnit": "C"}}
    cloud.script(LOGIN, ok(data))
    account = await make_api().login(EMAIL, PASSWORD_MD5)
    assert (account.token, account.user_id, account.user_name) == ("tok", None, None)
    assert account.temperature_unit is not None
    assert account.temperature_unit.value == "C"


HOSTILE_DATA: list[tuple[str, Any]] = [
    (OWNED, {"code": "0", "data": {"deviceId": 1}}),
    (OWNED, {"code": "0", "data": "devices"}),
    (CERT, ok(None)),
    (CERT, ok({"p12Password": "x"})),
    (CERT, ok({"p12Url": "http://file.example/x.p12", "p12Password": "x"})),
    (CERT, ok({"p12Url": "file:///etc/passwd", "p12Password": "x"})),
    (CERT, ok({"p12Url": "https://", "p12Password": "x"})),
    (CERT, ok({"p12Url": "https://[::1", "p12Password": "x"})),
    (CERT, ok({"p12Url": "https://h/é.p12", "p12Password": "x"})),
    (CERT, ok({"p12Url": "https://h/x.p12"})),
    (CERT, ok({"p12Url": "https://h/x.p12", "p12Password": ""})),
    (CERT, ok({"p12Url": "https://h/x.p12", "p12Password": "x", "p12Md5": "abc"})),
    (CERT, ok({"p12Url": "https://h/x.p12", "p12Password": "x", "p12Md5": 5})),
    (CERT, ok({"p12Url": "https://h/x.p12", "p12Password": "x", "clientId": "a b"})),
    (CERT, ok({"p12Url": "https://h/x.p12", "p12Password": "x", "clientId": 7})),
]


@pytest.mark.parametrize(("path", "answer"), HOSTILE_DATA)
async def test_hostile_data_is_unexpected(
    cloud: FakeCloud, make_api: MakeApi, path: str, answer: Any
) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    cloud.script(path, answer)
    with pytest.raises(UnexpectedAnswer):
        await (api.owned_devices() if path == OWNED else api.apply_certificate())


async def test_cert_grant_keeps_what_the_cloud_gives(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    grant_data = {
        "p12Url": "https://file.iot.thermomaven.com/mqtt-cert/2026/05/02/8f1e2d3c4b5a.p12",
        "p12Password": "c4ca4238a0b923820dcc509a6f75849b",
        "p12Md5": "9E107D9D372BB6826BD81D3542A419D6",
        "subTopics": ["app/user/1/sub", "device/+/+/pub", "", 5, "app/user/1/sub", "a//b"],
        "endpoint": "a2ubmaqm3a642j-ats.iot.eu-central-1.amazonaws.com",
        "port": 8883,
        "region": "eu-central-1",
        "expireTime": 1777700000000,
        "keyPassword": "secret",
        "nested": {"a": 1},
        "bad key": "x",
    }
    cloud.script(CERT, ok(grant_data))
    grant = await api.apply_certificate()
    assert grant.p12_md5 == "9e107d9d372bb6826bd81d3542a419d6"
    assert grant.client_id is None
    assert grant.sub_topics == ("app/user/1/sub",)
    assert grant.endpoint == "a2ubmaqm3a642j-ats.iot.eu-central-1.amazonaws.com"
    assert grant.port == 8883
    assert grant.extras == {"region": "eu-central-1", "expireTime": "1777700000000"}
    cloud.script(CERT, ok(grant_data | {"endpoint": "bad host!", "port": 0, "p12Md5": None}))
    grant = await api.apply_certificate()
    assert (grant.endpoint, grant.port, grant.p12_md5) == (None, None, None)


async def test_http_statuses(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    for status in (500, 502, 503, 429, 408):
        cloud.script(OWNED, web.Response(status=status))
        with pytest.raises(CloudUnavailable, match=f"HTTP {status}"):
            await api.owned_devices()


async def test_timeout_is_cloud_unavailable(cloud: FakeCloud, make_api: MakeApi) -> None:
    cloud.script(LOGIN, _slow)
    with pytest.raises(CloudUnavailable, match="TimeoutError"):
        await make_api(timeout=0.2).login(EMAIL, PASSWORD_MD5)


async def test_untrusted_certificate_is_cloud_unavailable(cloud: FakeCloud) -> None:
    async with aiohttp.ClientSession() as session:
        api = ThermoMavenApi(session, region="US", device_sn=DEVICE_SN, base_url=cloud.base)
        with pytest.raises(CloudUnavailable):
            await api.login(EMAIL, PASSWORD_MD5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_closed_port_is_cloud_unavailable(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    api = ThermoMavenApi(
        session, region="US", device_sn=DEVICE_SN, base_url=f"https://127.0.0.1:{_free_port()}"
    )
    with pytest.raises(CloudUnavailable):
        await api.login(EMAIL, PASSWORD_MD5)


@contextlib.asynccontextmanager
async def raw_server(reply: bytes) -> AsyncIterator[str]:
    """A plain-TCP server answering every connection with `reply`, then closing."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read(65536)
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 100_000 + b"\r\n\r\n",
    ],
)
async def test_broken_http_never_leaks_other_exceptions(socket_enabled: None, reply: bytes) -> None:
    async with raw_server(reply) as base, aiohttp.ClientSession() as session:
        api = ThermoMavenApi(session, region="US", device_sn=DEVICE_SN, base_url=base)
        with pytest.raises(ThermoMavenError) as info:
            await api.login(EMAIL, PASSWORD_MD5)
        assert isinstance(info.value, CloudUnavailable | UnexpectedAnswer)


async def _p12_grant(
    cloud: FakeCloud, make_api: MakeApi
) -> tuple[ThermoMavenApi, CertificateGrant]:
    api = make_api()
    await api.login(EMAIL, PASSWORD_MD5)
    return api, await api.apply_certificate()


P12_PATH = "/mqtt-cert/8f1e2d3c4b5a.p12"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (web.Response(status=404), UnexpectedAnswer),
        (web.Response(status=503), CloudUnavailable),
        (web.Response(body=b""), UnexpectedAnswer),
        (web.Response(body=b"x" * (MAX_P12_BYTES + 1)), UnexpectedAnswer),
        (_huge_chunked, UnexpectedAnswer),
        (_slow, CloudUnavailable),
    ],
)
async def test_p12_download_failures(
    cloud: FakeCloud, make_api: MakeApi, answer: Any, error: type[Exception]
) -> None:
    api = make_api(timeout=0.5)
    await api.login(EMAIL, PASSWORD_MD5)
    grant = await api.apply_certificate()
    cloud.script(P12_PATH, answer)
    with pytest.raises(error):
        await api.download_p12(grant)


async def test_p12_without_announced_md5_is_accepted(cloud: FakeCloud, make_api: MakeApi) -> None:
    api, grant = await _p12_grant(cloud, make_api)
    grant = CertificateGrant(grant.p12_url, grant.p12_password, None, None, ())
    assert await api.download_p12(grant) == cloud.p12


async def test_plain_http_cloud_allows_a_plain_http_p12_url(
    socket_enabled: None, tm_pki: Any
) -> None:
    fake = FakeCloud(p12=b"p12 bytes")
    server = TestServer(fake.app())
    await server.start_server()
    fake.base = str(server.make_url("/")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as session:
            api = ThermoMavenApi(session, region="US", device_sn=DEVICE_SN, base_url=fake.base)
            await api.login(EMAIL, PASSWORD_MD5)
            grant = await api.apply_certificate()
            assert grant.p12_url.startswith("http://127.0.0.1:")
            assert await api.download_p12(grant) == b"p12 bytes"
    finally:
        await server.close()


async def test_login_body_is_exactly_what_was_signed(cloud: FakeCloud, make_api: MakeApi) -> None:
    api = make_api(device_info='HA "ünïcode" device')
    await api.login(EMAIL, PASSWORD_MD5)
    body = cloud.requests[0].body
    assert json.loads(body)["deviceInfo"] == 'HA "ünïcode" device'
    with pytest.raises(AuthError):
        await make_api().login("other@example.com", PASSWORD_MD5)
