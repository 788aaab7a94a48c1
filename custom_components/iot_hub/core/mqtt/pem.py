"""Certificate and key files as users upload them (PEM or DER) turned into PEM text.

No I/O, no Home Assistant: the config flow reads the uploaded bytes and asks here.
"""

from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

# A CA bundle of a few hundred certificates fits; anything larger is not a certificate file.
MAX_PEM_FILE_BYTES = 512 * 1024


class PemKind(StrEnum):
    """What an uploaded file must hold."""

    CERTIFICATE = "certificate"
    PRIVATE_KEY = "private_key"


class UnreadableFileError(ValueError):
    """The file is too large, or holds no certificate (or key) in PEM or DER."""


def to_pem(data: bytes, kind: PemKind) -> str:
    """Return `data` as PEM text: PEM files as they are, DER files converted.

    A PEM file is checked only for being text with a PEM block; the connection test
    tells the rest (a wrong CA, a key that does not match) with a precise error.
    """
    if len(data) > MAX_PEM_FILE_BYTES:
        raise UnreadableFileError(f"file larger than {MAX_PEM_FILE_BYTES} bytes")
    if b"-----BEGIN " in data:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as err:
            raise UnreadableFileError("PEM file with non-ASCII bytes") from err
        if kind is PemKind.PRIVATE_KEY and "ENCRYPTED" in text:
            raise UnreadableFileError("encrypted private key")
        return text.strip() + "\n"
    try:
        if kind is PemKind.CERTIFICATE:
            return x509.load_der_x509_certificate(data).public_bytes(Encoding.PEM).decode()
        key = load_der_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise UnreadableFileError(f"not a {kind} in PEM or DER") from err
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
