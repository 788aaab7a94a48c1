"""Turn the cloud's P12 into PEM files for the MQTT TLS client (blocking: run in an executor).

The P12 (PKCS#12) holds the AWS IoT client certificate, its private key and sometimes the
CA chain; `cryptography` opens it, legacy RC2-40 encryption included. The key is written
unencrypted (PKCS#8), so every file is created 0600 in a 0700 directory.
"""

from dataclasses import dataclass
from datetime import datetime
import os
from pathlib import Path
from typing import Final

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from .errors import CertificateError

CERT_FILE: Final = "thermomaven-cert.pem"
KEY_FILE: Final = "thermomaven-key.pem"
CA_FILE: Final = "thermomaven-ca.pem"
_PUBLIC = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True, slots=True)
class PemMaterial:
    """The PEM text of a P12: client certificate, its key, the extra (CA) certificates."""

    cert_pem: str
    key_pem: str
    ca_pem: str | None
    not_valid_after: datetime

    def __repr__(self) -> str:
        """Return a representation that never shows the key."""
        return f"PemMaterial(not_valid_after={self.not_valid_after.isoformat()})"


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    """Where the PEM files were written."""

    cert_path: Path
    key_path: Path
    ca_path: Path | None


def p12_to_pem(p12: bytes, password: str) -> PemMaterial:
    """Return the PEM material of a P12; CertificateError when it cannot be used.

    The P12 must hold a certificate and the private key of that certificate.
    """
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(p12, password.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise CertificateError("cannot open the P12 (corrupt, or wrong password)") from err
    if cert is None or key is None:
        raise CertificateError("the P12 lacks the client certificate or its key")
    if key.public_key().public_bytes(*_PUBLIC) != cert.public_key().public_bytes(*_PUBLIC):
        raise CertificateError("the P12 key does not belong to its certificate")
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    ca_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in extra)
    return PemMaterial(cert_pem, key_pem, ca_pem or None, cert.not_valid_after_utc)


def _write_private(path: Path, text: str) -> None:
    """Write text readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_certificate_files(material: PemMaterial, directory: Path) -> CertificateFiles:
    """Write the PEM files (0600) into `directory` (created 0700); return their paths.

    A CA file left from a previous P12 that had a chain is removed when this one has none.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = CertificateFiles(
        directory / CERT_FILE,
        directory / KEY_FILE,
        directory / CA_FILE if material.ca_pem else None,
    )
    _write_private(files.key_path, material.key_pem)
    _write_private(files.cert_path, material.cert_pem)
    if material.ca_pem:
        _write_private(directory / CA_FILE, material.ca_pem)
    else:
        (directory / CA_FILE).unlink(missing_ok=True)
    return files


def remove_certificate_files(directory: Path) -> None:
    """Delete the PEM files this module writes in `directory` (missing ones are fine)."""
    for name in (KEY_FILE, CERT_FILE, CA_FILE):
        (directory / name).unlink(missing_ok=True)
