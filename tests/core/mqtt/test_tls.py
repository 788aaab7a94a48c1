"""TLS context building (core, no Home Assistant): pasted PEM text that is not ASCII."""

from pathlib import Path
from typing import Any

import pytest

from custom_components.iot_hub.core.mqtt.errors import ConnectFailure, MqttConnectError
from custom_components.iot_hub.core.mqtt.settings import TlsMode, TlsSettings
from custom_components.iot_hub.core.mqtt.tls import (
    CLIENT_CERT_FILE,
    CLIENT_KEY_FILE,
    build_ssl_context,
)

from ...certs import Pki

BOM = "\ufeff"
# TlsSettings field -> the Pki attribute holding its good PEM text.
MATERIAL = {
    "ca_pem": "ca_cert_pem",
    "client_cert_pem": "client_cert_pem",
    "client_key_pem": "client_key_pem",
}


def _tls(pki: Pki, **overrides: Any) -> TlsSettings:
    values: dict[str, Any] = {
        "mode": TlsMode.CUSTOM_CA,
        "ca_pem": pki.ca_cert_pem,
        "client_cert_pem": pki.client_cert_pem,
        "client_key_pem": pki.client_key_pem,
    }
    values.update(overrides)
    return TlsSettings(**values)


def _accent_in_body(pem: str) -> str:
    """Replace the first base64 character of the second line with an "é"."""
    head, body = pem.split("\n", 1)
    return f"{head}\né{body[1:]}"


# (field, how the pasted text is spoiled, reason, where the first non-ASCII character is)
CASES = [
    ("ca_pem", lambda pem: BOM + pem, ConnectFailure.INVALID_CA, "U+FEFF at line 1, column 1"),
    (
        "ca_pem",
        lambda pem: "# CA — production\n" + pem,
        ConnectFailure.INVALID_CA,
        "U+2014 at line 1, column 6",
    ),
    ("ca_pem", _accent_in_body, ConnectFailure.INVALID_CA, "U+00E9 at line 2, column 1"),
    (
        "client_cert_pem",
        lambda pem: "Café device\n" + pem,
        ConnectFailure.INVALID_CLIENT_CERT,
        "U+00E9 at line 1, column 4",
    ),
    (
        "client_key_pem",
        lambda pem: BOM + pem,
        ConnectFailure.INVALID_CLIENT_CERT,
        "U+FEFF at line 1, column 1",
    ),
    (
        "client_key_pem",
        lambda pem: pem.replace("\n", "\u00a0\n", 1),  # a no-break space from a web page
        ConnectFailure.INVALID_CLIENT_CERT,
        "U+00A0 at line 1",
    ),
]
IDS = ["ca-bom", "ca-em-dash-comment", "ca-accent-in-body", "cert-accent", "key-bom", "key-nbsp"]


@pytest.mark.parametrize(("field", "spoil", "reason", "where"), CASES, ids=IDS)
def test_non_ascii_pem_is_a_precise_failure(
    pki: Pki, tmp_path: Path, field: str, spoil: Any, reason: ConnectFailure, where: str
) -> None:
    tls = _tls(pki, **{field: spoil(getattr(pki, MATERIAL[field]))})
    with pytest.raises(MqttConnectError) as info:
        build_ssl_context(tls, tmp_path / "tls")
    assert info.value.reason is reason
    assert not info.value.is_auth
    assert where in info.value.detail
    # The detail names the position only, never the pasted material.
    assert "BEGIN" not in info.value.detail
    assert pki.client_key_pem.splitlines()[1] not in info.value.detail


@pytest.mark.parametrize("field", ["client_cert_pem", "client_key_pem"])
def test_non_ascii_client_material_leaves_the_stored_files_alone(
    pki: Pki, tmp_path: Path, field: str
) -> None:
    """Rejected text is refused before anything is written: the working pair stays intact."""
    tls_dir = tmp_path / "tls"
    build_ssl_context(_tls(pki), tls_dir)
    with pytest.raises(MqttConnectError):
        build_ssl_context(_tls(pki, **{field: BOM + getattr(pki, MATERIAL[field])}), tls_dir)
    assert (tls_dir / CLIENT_CERT_FILE).read_text() == pki.client_cert_pem
    assert (tls_dir / CLIENT_KEY_FILE).read_text() == pki.client_key_pem


def test_non_ascii_material_writes_nothing(pki: Pki, tmp_path: Path) -> None:
    tls_dir = tmp_path / "tls"
    with pytest.raises(MqttConnectError):
        build_ssl_context(_tls(pki, client_key_pem=BOM + pki.client_key_pem), tls_dir)
    assert not tls_dir.exists() or list(tls_dir.iterdir()) == []
