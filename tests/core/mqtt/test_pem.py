"""Uploaded certificate and key files: PEM kept, DER converted, the rest refused."""

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
import pytest

from custom_components.iot_hub.core.mqtt.pem import (
    MAX_PEM_FILE_BYTES,
    PemKind,
    UnreadableFileError,
    to_pem,
)

from ...certs import Pki


def test_pem_certificate_kept(pki: Pki) -> None:
    assert to_pem(pki.ca_cert_pem.encode(), PemKind.CERTIFICATE).strip() == pki.ca_cert_pem.strip()


def test_der_certificate_converted(pki: Pki) -> None:
    certificate = x509.load_pem_x509_certificate(pki.ca_cert_pem.encode())
    pem = to_pem(certificate.public_bytes(Encoding.DER), PemKind.CERTIFICATE)
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert x509.load_pem_x509_certificate(pem.encode()) == certificate


def test_der_key_converted() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    pem = to_pem(der, PemKind.PRIVATE_KEY)
    loaded = load_pem_private_key(pem.encode(), password=None)
    assert loaded.private_numbers() == key.private_numbers()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"hello", PemKind.CERTIFICATE),
        (b"\x30\x82garbage", PemKind.PRIVATE_KEY),
        (b"-----BEGIN CERTIFICATE-----\n\xff\xfe", PemKind.CERTIFICATE),
        (b"-----BEGIN " + b"A" * MAX_PEM_FILE_BYTES, PemKind.CERTIFICATE),
    ],
    ids=["text", "der_garbage", "non_ascii_pem", "too_large"],
)
def test_unreadable_files_refused(data: bytes, kind: PemKind) -> None:
    with pytest.raises(UnreadableFileError):
        to_pem(data, kind)


def test_encrypted_key_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw"))
    with pytest.raises(UnreadableFileError, match="encrypted"):
        to_pem(pem, PemKind.PRIVATE_KEY)
