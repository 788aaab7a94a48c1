"""Units of the MQTT core: reconnect backoff, TLS contexts and files, connect errors."""

from pathlib import Path
import ssl
import stat
from typing import Any

import pytest

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.errors import ConnectFailure, MqttConnectError
from custom_components.iot_hub.core.mqtt.settings import TlsMode, TlsSettings
from custom_components.iot_hub.core.mqtt.tls import (
    CLIENT_CERT_FILE,
    CLIENT_KEY_FILE,
    build_ssl_context,
    write_private_file,
)

from ...certs import Pki

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
