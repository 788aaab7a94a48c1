"""Units of the Home-Assistant-free core: backoff, DHT11 decoding, TLS contexts, imports."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import ssl
import stat
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.iot_hub import core
from custom_components.iot_hub.core.local.common import MAX_PAYLOAD_BYTES
from custom_components.iot_hub.core.local.dht11 import DHT11_DEVICE_ID, DHT11_RANGES, decode_dht11
from custom_components.iot_hub.core.local.models import DeviceModel, Reading, Rejected, Rejection
from custom_components.iot_hub.core.local.topics import (
    DEFAULT_BASES,
    MAX_REMEMBERED_TOPICS,
    Family,
    Kind,
    Route,
    TopicRouter,
)
from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.errors import ConnectFailure, MqttConnectError
from custom_components.iot_hub.core.mqtt.settings import TlsMode, TlsSettings
from custom_components.iot_hub.core.mqtt.tls import (
    CLIENT_CERT_FILE,
    CLIENT_KEY_FILE,
    build_ssl_context,
    write_private_file,
)

from .certs import Pki

# ---------------------------------------------------------------- Backoff


def test_backoff_grows_exponentially_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=10.0, rand=lambda: 1.0)  # no jitter: the nominal delay
    assert [backoff.next_delay() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert backoff.attempts == 7


def test_backoff_jitter_stays_within_half_and_full_nominal() -> None:
    draws = iter([0.0, 0.5, 0.999999, 0.0, 1.0])
    backoff = Backoff(base=2.0, cap=60.0, rand=lambda: next(draws))
    delays = [backoff.next_delay() for _ in range(5)]
    nominal = [2.0, 4.0, 8.0, 16.0, 32.0]
    assert delays == pytest.approx([1.0, 3.0, 7.999996, 8.0, 32.0])
    for delay, expected in zip(delays, nominal, strict=True):
        assert 0.5 * expected <= delay <= expected


def test_backoff_with_the_default_random_source_stays_in_bounds() -> None:
    backoff = Backoff(base=0.1, cap=1.0)
    for attempt in range(50):
        nominal = min(1.0, 0.1 * 2**attempt)
        assert 0.5 * nominal <= backoff.next_delay() <= nominal


def test_backoff_survives_many_attempts() -> None:
    backoff = Backoff(base=1.0, cap=60.0, rand=lambda: 1.0, attempts=10_000)
    assert backoff.next_delay() == 60.0  # no OverflowError from 2.0 ** 10_000


def test_backoff_reset_starts_from_the_base_again() -> None:
    backoff = Backoff(base=0.5, cap=8.0, rand=lambda: 1.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == 0.5
    assert backoff.next_delay() == 1.0


# ------------------------------------------------------------ decode_dht11


def _values(payload: bytes) -> dict[str, float]:
    """The values of an accepted DHT11 payload (fails the test on a rejection)."""
    result = decode_dht11(payload)
    assert isinstance(result, Reading), result
    assert result.device_id == DHT11_DEVICE_ID
    assert result.model is DeviceModel.DHT11
    for value in result.values.values():
        assert type(value) is float
    return result.values


@pytest.mark.parametrize(
    ("payload", "values"),
    [
        # The seed-000 examples, verbatim.
        (b'{"temperature": 25.5, "humidity": 60}', {"temperature": 25.5, "humidity": 60.0}),
        (b'{"temperature":25,"humidity":60}', {"temperature": 25.0, "humidity": 60.0}),
        # Either value alone, null as absent, bounds inclusive, any JSON number form.
        (b'{"temperature": 21.0}', {"temperature": 21.0}),
        (b'{"humidity": 40}', {"humidity": 40.0}),
        (b'{"temperature": null, "humidity": 55}', {"humidity": 55.0}),
        (b'{"temperature": 0, "humidity": 0}', {"temperature": 0.0, "humidity": 0.0}),
        (b'{"temperature": 50, "humidity": 100}', {"temperature": 50.0, "humidity": 100.0}),
        (b' \n{"temperature": 1e1}\n', {"temperature": 10.0}),
    ],
)
def test_decode_dht11_accepts(payload: bytes, values: dict[str, float]) -> None:
    assert _values(payload) == values


def test_decode_dht11_ignores_and_lists_other_keys() -> None:
    result = decode_dht11(b'{"temperature": 20, "humidity": 50, "battery": "low"}')
    assert isinstance(result, Reading)
    assert result.values == {"temperature": 20.0, "humidity": 50.0}


def test_decode_dht11_payload_size_limit() -> None:
    body = b'{"temperature": 20}'
    at_limit = body + b" " * (MAX_PAYLOAD_BYTES - len(body))
    assert _values(at_limit) == {"temperature": 20.0}
    assert decode_dht11(at_limit + b" ") == Rejected(
        Rejection.TOO_LARGE, f"{MAX_PAYLOAD_BYTES + 1} bytes"
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", Rejection.INVALID_JSON),
        (b"not json", Rejection.INVALID_JSON),
        (b'{"temperature": 25', Rejection.INVALID_JSON),
        (b"\xff\xfe", Rejection.INVALID_JSON),
        # orjson follows the RFC: no NaN literal, no number overflowing to infinity.
        (b'{"temperature": NaN, "humidity": 60}', Rejection.INVALID_JSON),
        (b'{"temperature": 1e999}', Rejection.INVALID_JSON),
        (b'{"humidity": -1e999}', Rejection.INVALID_JSON),
        (b"[25.5, 60]", Rejection.NOT_AN_OBJECT),
        (b"25.5", Rejection.NOT_AN_OBJECT),
        (b'"text"', Rejection.NOT_AN_OBJECT),
        (b"null", Rejection.NOT_AN_OBJECT),
        (b"{}", Rejection.NO_VALUES),
        (b'{"temp": 25}', Rejection.NO_VALUES),
        (b'{"temperature": null, "humidity": null}', Rejection.NO_VALUES),
        (b'{"temperature": "25.5"}', Rejection.WRONG_TYPE),
        (b'{"temperature": true}', Rejection.WRONG_TYPE),
        (b'{"humidity": false}', Rejection.WRONG_TYPE),
        (b'{"temperature": [25]}', Rejection.WRONG_TYPE),
        (b'{"temperature": {"value": 25}}', Rejection.WRONG_TYPE),
        (b'{"temperature": 25, "humidity": "60"}', Rejection.WRONG_TYPE),
        (b'{"temperature": 80.1}', Rejection.OUT_OF_RANGE),
        (b'{"temperature": -40.5}', Rejection.OUT_OF_RANGE),
        (b'{"humidity": 100.01}', Rejection.OUT_OF_RANGE),
        (b'{"humidity": -1}', Rejection.OUT_OF_RANGE),
        (b'{"temperature": 25, "humidity": 250}', Rejection.OUT_OF_RANGE),
    ],
)
def test_decode_dht11_rejects(payload: bytes, reason: Rejection) -> None:
    result = decode_dht11(payload)
    assert isinstance(result, Rejected)
    assert result.reason is reason


def test_decode_dht11_range_is_the_sensors() -> None:
    for key, (low, high) in DHT11_RANGES.items():
        assert _values(json.dumps({key: low}).encode()) == {key: low}
        assert _values(json.dumps({key: high}).encode()) == {key: high}
        for outside in (low - 0.1, high + 0.1):
            result = decode_dht11(json.dumps({key: outside}).encode())
            assert isinstance(result, Rejected)
            assert result.reason is Rejection.OUT_OF_RANGE


def test_rejection_details_name_the_problem() -> None:
    assert decode_dht11(b"[1]") == Rejected(Rejection.NOT_AN_OBJECT, "list")
    assert decode_dht11(b'{"temperature": true}') == Rejected(
        Rejection.WRONG_TYPE, "temperature is bool"
    )
    assert decode_dht11(b'{"humidity": 101}') == Rejected(Rejection.OUT_OF_RANGE, "humidity=101.0")
    assert decode_dht11(b"{}") == Rejected(Rejection.NO_VALUES)
    invalid = decode_dht11(b"x" * 1000)
    assert isinstance(invalid, Rejected)
    assert len(invalid.detail) <= 120
    overflow = decode_dht11(b'{"temperature": 1e999}')
    assert isinstance(overflow, Rejected)
    assert "infinity" in overflow.detail


def _assert_well_formed(result: Reading | Rejected) -> None:
    assert isinstance(result, Reading | Rejected)
    if isinstance(result, Rejected):
        assert isinstance(result.reason, Rejection)
        return
    assert result.values
    for key, value in result.values.items():
        low, high = DHT11_RANGES[key]
        assert low <= value <= high


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
numbers = st.none() | st.integers(-200, 200) | st.floats(-200, 200) | json_values


@given(st.binary(max_size=512))
def test_decode_dht11_never_raises_on_bytes(payload: bytes) -> None:
    _assert_well_formed(decode_dht11(payload))


@given(json_values)
def test_decode_dht11_never_raises_on_json(value: Any) -> None:
    # json.dumps writes NaN/Infinity literals for non-finite floats: invalid JSON to orjson.
    _assert_well_formed(decode_dht11(json.dumps(value).encode()))


@given(
    st.fixed_dictionaries(
        {}, optional={"temperature": numbers, "humidity": numbers, "timestamp": json_values}
    )
)
def test_decode_dht11_sensor_shaped_objects(data: dict[str, Any]) -> None:
    result = decode_dht11(json.dumps(data).encode())
    _assert_well_formed(result)
    if isinstance(result, Reading):
        assert result.values == {
            key: data[key] for key in DHT11_RANGES if data.get(key) is not None
        }


# ------------------------------------------------------- build_ssl_context


def _ca_common_names(ctx: ssl.SSLContext) -> set[str]:
    return {
        value
        for cert in ctx.get_ca_certs()
        for rdn in cert["subject"]
        for key, value in rdn
        if key == "commonName"
    }


@pytest.mark.parametrize("mode", [TlsMode.OFF, TlsMode.SYSTEM_CA])
def test_ssl_context_default_verification(mode: TlsMode) -> None:
    ctx = build_ssl_context(TlsSettings(mode=mode), None)
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert "iot_hub test CA" not in _ca_common_names(ctx)


def test_ssl_context_custom_ca(pki: Pki) -> None:
    ctx = build_ssl_context(TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem=pki.ca_cert_pem), None)
    assert ctx.verify_mode is ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert "iot_hub test CA" in _ca_common_names(ctx)


def test_ssl_context_without_verification(pki: Pki) -> None:
    tls = TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem=pki.ca_cert_pem, verify=False)
    ctx = build_ssl_context(tls, None)
    assert ctx.verify_mode is ssl.CERT_NONE
    assert not ctx.check_hostname


def test_ssl_context_client_certificate_files_are_private(pki: Pki, tmp_path: Path) -> None:
    tls_dir = tmp_path / "new" / "tls"
    tls = TlsSettings(
        mode=TlsMode.SYSTEM_CA,
        client_cert_pem=pki.client_cert_pem,
        client_key_pem=pki.client_key_pem,
    )
    build_ssl_context(tls, tls_dir)
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    for name, pem in (
        (CLIENT_CERT_FILE, pki.client_cert_pem),
        (CLIENT_KEY_FILE, pki.client_key_pem),
    ):
        path = tls_dir / name
        assert path.read_text() == pem
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_private_file_tightens_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "client.key"
    path.write_text("old, longer content")
    path.chmod(0o644)
    write_private_file(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _client_tls(pki: Pki, **overrides: Any) -> TlsSettings:
    values: dict[str, Any] = {
        "mode": TlsMode.CUSTOM_CA,
        "ca_pem": pki.ca_cert_pem,
        "client_cert_pem": pki.client_cert_pem,
        "client_key_pem": pki.client_key_pem,
    }
    values.update(overrides)
    return TlsSettings(**values)


@pytest.mark.parametrize(
    ("overrides", "with_dir", "reason"),
    [
        (
            {"ca_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
            True,
            ConnectFailure.INVALID_CA,
        ),
        ({"ca_pem": "garbage"}, True, ConnectFailure.INVALID_CA),
        ({"ca_pem": None}, True, ConnectFailure.INVALID_CA),
        ({"client_key_pem": None}, True, ConnectFailure.INVALID_CLIENT_CERT),
        ({"client_cert_pem": None}, True, ConnectFailure.INVALID_CLIENT_CERT),
        ({}, False, ConnectFailure.INVALID_CLIENT_CERT),
        ({"client_cert_pem": "garbage"}, True, ConnectFailure.INVALID_CLIENT_CERT),
        ({"client_key_pem": "garbage"}, True, ConnectFailure.INVALID_CLIENT_CERT),
        ({"client_cert_pem": "__server_cert__"}, True, ConnectFailure.INVALID_CLIENT_CERT),
    ],
    ids=[
        "broken-ca",
        "garbage-ca",
        "missing-ca",
        "cert-without-key",
        "key-without-cert",
        "no-tls-dir",
        "garbage-cert",
        "garbage-key",
        "cert-key-mismatch",
    ],
)
def test_ssl_context_unusable_material(
    pki: Pki, tmp_path: Path, overrides: dict[str, Any], with_dir: bool, reason: ConnectFailure
) -> None:
    if overrides.get("client_cert_pem") == "__server_cert__":
        overrides = {"client_cert_pem": pki.server_cert_pem}  # not the key's certificate
    with pytest.raises(MqttConnectError) as info:
        build_ssl_context(_client_tls(pki, **overrides), tmp_path if with_dir else None)
    assert info.value.reason is reason
    assert not info.value.is_auth


# ------------------------------------------------------- errors, settings


def test_connect_error_message_and_auth_flag() -> None:
    assert str(MqttConnectError(ConnectFailure.TIMEOUT)) == "timeout"
    err = MqttConnectError(ConnectFailure.INVALID_AUTH, "refused")
    assert str(err) == "invalid_auth: refused"
    assert err.detail == "refused"
    assert err.is_auth


@pytest.mark.parametrize(
    ("mode", "enabled"),
    [(TlsMode.OFF, False), (TlsMode.SYSTEM_CA, True), (TlsMode.CUSTOM_CA, True)],
)
def test_tls_enabled(mode: TlsMode, enabled: bool) -> None:
    assert TlsSettings(mode=mode).enabled is enabled


# ------------------------------------------------ no Home Assistant in core


def _imported_modules(path: Path) -> list[tuple[str, int]]:
    """(module, relative level) of every import statement in a source file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_core_never_imports_home_assistant() -> None:
    package = Path(core.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert {p.name for p in sources} >= {
        "__init__.py",
        "backoff.py",
        "client.py",
        "dht11.py",
        "errors.py",
        "settings.py",
        "tls.py",
    }
    offenders = []
    for path in sources:
        # A relative import may climb to core itself, never above it (..const etc.).
        max_level = len(path.relative_to(package).parts)
        for module, level in _imported_modules(path):
            top = module.split(".")[0]
            if (level == 0 and top in {"homeassistant", "custom_components"}) or level > max_level:
                offenders.append(f"{path.name}: {'.' * level}{module}")
    assert offenders == []


# ------------------------------------------------------------------ topics


def test_router_routes_every_family_and_remembers_answers() -> None:
    router = TopicRouter(dict(DEFAULT_BASES))
    assert router.route("dht11/sensor/data") == Route(Kind.DHT11_DATA)
    assert router.route("sensor/motion") == Route(Kind.EVENT, "motion")
    assert router.route("iot/sensors/ESP32_001/data") == Route(Kind.IOT_DATA, "ESP32_001")
    assert router.route("iot/devices/RPI_001/status") == Route(Kind.IOT_STATUS, "RPI_001")
    assert router.route("iot/alerts/RPI_001") == Route(Kind.IOT_ALERT, "RPI_001")
    for unowned in ("iot/sensors/x/other", "iot/sensors/data", "elsewhere", "sensor/a/b"):
        assert router.route(unowned) is None
        assert router.route(unowned) is None  # remembered: same answer


def test_router_memory_is_bounded_under_a_flood_of_topics() -> None:
    router = TopicRouter({Family.IOT: "iot"})
    for n in range(MAX_REMEMBERED_TOPICS * 2 + 5):
        assert router.route(f"iot/sensors/d{n}/data") == Route(Kind.IOT_DATA, f"d{n}")
        assert len(router._seen) <= MAX_REMEMBERED_TOPICS
    assert router.route("iot/sensors/d0/data") == Route(Kind.IOT_DATA, "d0")
