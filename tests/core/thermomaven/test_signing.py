"""Request signing: the two test vectors of the protocol notes, headers, validation."""

import pytest

from custom_components.iot_hub.core.thermomaven.api import encode_body, password_md5
from custom_components.iot_hub.core.thermomaven.signing import (
    APP_ID,
    RequestSigner,
    new_device_sn,
    new_nonce,
    now_ms,
    sign,
    valid_device_sn,
)

HEADERS = {
    "x-appId": "ap4060eff28137181bd",
    "x-appVersion": "1906",
    "x-deviceSn": "0123456789abcdef0123456789abcdef",
    "x-lang": "en_US",
    "x-nonce": "00000000000000000000000000000001",
    "x-region": "US",
    "x-timestamp": "1760000000000",
    "x-token": "none",
}
LOGIN_BODY = (
    '{"accountName":"user@example.com","accountPassword":"2ab96390c7dbe3439de74d0c9b0b1767",'
    '"deviceInfo":"homeassistant thermomaven"}'
)


def test_vector_login_with_body() -> None:
    assert sign(HEADERS, LOGIN_BODY) == "63e84ac30b12afc83058926701c606b7"


def test_vector_token_empty_body() -> None:
    assert sign(HEADERS | {"x-token": "tok123"}, "") == "0c01af27edc6e807f6c427e17dc18714"


def test_sign_ignores_order_x_sign_other_headers_blank_body_and_newlines() -> None:
    shuffled = dict(reversed(HEADERS.items())) | {"x-sign": "zzz", "Content-Type": "a/b"}
    assert sign(shuffled, LOGIN_BODY) == "63e84ac30b12afc83058926701c606b7"
    token = HEADERS | {"x-token": "tok123"}
    assert sign(token, "  ") == "0c01af27edc6e807f6c427e17dc18714"
    assert sign(HEADERS, LOGIN_BODY.replace(",", ",\n")) == sign(HEADERS, LOGIN_BODY)
    assert sign(HEADERS, LOGIN_BODY, app_key="wrong") != sign(HEADERS, LOGIN_BODY)


def test_password_md5_and_compact_body_reproduce_the_vector() -> None:
    assert password_md5("hunter2") == "2ab96390c7dbe3439de74d0c9b0b1767"
    body = {
        "accountName": "user@example.com",
        "accountPassword": password_md5("hunter2"),
        "deviceInfo": "homeassistant thermomaven",
    }
    assert encode_body(body) == LOGIN_BODY
    assert encode_body({}) == ""
    assert encode_body({"name": "Grillé"}) == '{"name":"Grillé"}'


def test_signer_with_injected_clock_and_nonce_gives_the_vectors() -> None:
    signer = RequestSigner(
        region="US",
        device_sn="0123456789abcdef0123456789abcdef",
        clock=lambda: 1760000000000,
        nonce=lambda: "00000000000000000000000000000001",
    )
    headers = signer.headers(None, LOGIN_BODY)
    assert headers["x-sign"] == "63e84ac30b12afc83058926701c606b7"
    assert headers["x-token"] == "none"
    assert headers["x-appId"] == APP_ID
    assert headers["Content-Type"].startswith("application/json")
    assert headers["User-Agent"] == "okhttp/4.12.0"
    assert signer.headers("tok123")["x-sign"] == "0c01af27edc6e807f6c427e17dc18714"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"device_sn": "XYZ"},
        {"device_sn": "0123456789ABCDEF"},
        {"region": "U S"},
        {"region": "US\r\nx-evil: 1"},
        {"app_version": ""},
        {"lang": "en US"},
    ],
)
def test_signer_refuses_bad_arguments(kwargs: dict[str, str]) -> None:
    arguments = {"region": "US", "device_sn": "0123456789abcdef"} | kwargs
    with pytest.raises(ValueError, match=r"invalid|device_sn"):
        RequestSigner(**arguments)  # type: ignore[arg-type]


def test_defaults_are_fresh_and_well_formed() -> None:
    assert valid_device_sn(new_device_sn())
    assert new_device_sn() != new_device_sn()
    assert len(new_nonce()) == 32
    assert new_nonce() != new_nonce()
    assert now_ms() > 1_760_000_000_000
