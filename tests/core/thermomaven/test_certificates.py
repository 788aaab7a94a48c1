"""P12 → PEM with `cryptography`, files 0600, expiry, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
import ssl
import stat

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
import pytest

from custom_components.iot_hub.core.mqtt.certificates import certificate_expiry
from custom_components.iot_hub.core.thermomaven.certificates import (
    CA_FILE,
    CERT_FILE,
    KEY_FILE,
    p12_to_pem,
    remove_certificate_files,
    write_certificate_files,
)
from custom_components.iot_hub.core.thermomaven.errors import CertificateError

from .pki import NOT_AFTER, Pki

PASSWORD = "c4ca4238a0b923820dcc509a6f75849b"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("legacy", [False, True], ids=["aes", "legacy-3des"])
def test_p12_to_pem_files_0600_and_usable_by_ssl(tm_pki: Pki, tmp_path: Path, legacy: bool) -> None:
    material = p12_to_pem(tm_pki.client_p12(PASSWORD, legacy=legacy), PASSWORD)
    assert material.not_valid_after == NOT_AFTER
    assert material.ca_pem == tm_pki.ca_pem
    assert "PRIVATE KEY" not in repr(material)
    assert material.key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    directory = tmp_path / "tls" / "thermomaven"
    files = write_certificate_files(material, directory)
    assert files.cert_path.read_text() == material.cert_pem
    assert files.key_path.read_text() == material.key_pem
    assert files.ca_path is not None
    assert files.ca_path.read_text() == tm_pki.ca_pem
    for path in (files.cert_path, files.key_path, files.ca_path):
        assert _mode(path) == 0o600
    assert _mode(directory) == 0o700
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_cert_chain(files.cert_path, files.key_path)
    ctx.load_verify_locations(files.ca_path)
    assert certificate_expiry(material.cert_pem) == datetime(2036, 1, 2, 3, 4, 5, tzinfo=UTC)
    remove_certificate_files(directory)
    assert list(directory.iterdir()) == []
    remove_certificate_files(directory)


def test_p12_without_ca_removes_a_stale_ca_file(tm_pki: Pki, tmp_path: Path) -> None:
    write_certificate_files(p12_to_pem(tm_pki.client_p12(PASSWORD), PASSWORD), tmp_path)
    assert (tmp_path / CA_FILE).exists()
    (tmp_path / KEY_FILE).chmod(0o644)
    material = p12_to_pem(tm_pki.client_p12(PASSWORD, with_ca=False), PASSWORD)
    assert material.ca_pem is None
    files = write_certificate_files(material, tmp_path)
    assert files.ca_path is None
    assert not (tmp_path / CA_FILE).exists()
    assert _mode(tmp_path / KEY_FILE) == 0o600
    assert (tmp_path / CERT_FILE).exists()


def test_wrong_password_and_garbage_are_certificate_errors(tm_pki: Pki) -> None:
    p12 = tm_pki.client_p12(PASSWORD)
    for data, password in (
        (p12, "wrong"),
        (b"garbage", PASSWORD),
        (b"", PASSWORD),
        (p12[:-40], PASSWORD),
    ):
        with pytest.raises(CertificateError, match="cannot open"):
            p12_to_pem(data, password)


def _p12(key: ec.EllipticCurvePrivateKey | None, cert: x509.Certificate | None) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"x", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )


def test_p12_missing_or_mismatched_key_is_refused(
    tm_pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, cert = tm_pki.issue("client")
    with pytest.raises(CertificateError, match="lacks"):
        p12_to_pem(_p12(None, cert), PASSWORD)
    with pytest.raises(CertificateError, match="lacks"):
        p12_to_pem(_p12(key, None), PASSWORD)
    assert p12_to_pem(_p12(key, cert), PASSWORD).ca_pem is None
    # cryptography (and openssl) refuse to write a P12 whose key is not the certificate's.
    other = ec.generate_private_key(ec.SECP256R1())
    monkeypatch.setattr(
        pkcs12, "load_key_and_certificates", lambda data, password: (other, cert, [])
    )
    with pytest.raises(CertificateError, match="does not belong"):
        p12_to_pem(b"p12", PASSWORD)
