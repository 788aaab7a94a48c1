"""Build the SSL context for a broker connection (blocking: run in an executor)."""

import os
from pathlib import Path
import ssl

from .errors import ConnectFailure, MqttConnectError
from .settings import TlsMode, TlsSettings

CLIENT_CERT_FILE = "client.crt"
CLIENT_KEY_FILE = "client.key"


def _require_ascii(text: str, reason: ConnectFailure, what: str) -> str:
    """Return PEM `text`, or raise `reason` if it holds a non-ASCII character.

    PEM is ASCII, but pasted text brings a BOM, a typographic dash or an accent, which `ssl`
    refuses with a TypeError (cadata) and a file written as ASCII with UnicodeEncodeError.
    The detail names the character and its position, never the material itself.
    """
    if text.isascii():
        return text
    index = next(i for i, char in enumerate(text) if not char.isascii())
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    raise MqttConnectError(
        reason,
        f"{what}: non-ASCII character U+{ord(text[index]):04X} at line {line}, column {column}",
    )


def write_private_file(path: Path, text: str) -> None:
    """Write text readable by the owner only (keys must never be world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def build_ssl_context(tls: TlsSettings, tls_dir: Path | None) -> ssl.SSLContext:
    """Return a client context for `tls`; client cert and key go to `tls_dir`.

    `load_cert_chain` only reads files, so the PEMs are written (0600) first.
    Raises MqttConnectError with a precise reason when the material is unusable.
    """
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if tls.mode is TlsMode.CUSTOM_CA:
        ca_pem = _require_ascii(tls.ca_pem or "", ConnectFailure.INVALID_CA, "CA certificate")
        try:
            ctx.load_verify_locations(cadata=ca_pem)
        except (ssl.SSLError, ValueError) as err:
            raise MqttConnectError(ConnectFailure.INVALID_CA, str(err)) from err
    if not tls.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls.client_cert_pem or tls.client_key_pem:
        if not (tls.client_cert_pem and tls.client_key_pem and tls_dir is not None):
            raise MqttConnectError(
                ConnectFailure.INVALID_CLIENT_CERT, "certificate and key go together"
            )
        # Both checked before either is written: a refused pair leaves the stored one intact.
        cert_pem = _require_ascii(
            tls.client_cert_pem, ConnectFailure.INVALID_CLIENT_CERT, "client certificate"
        )
        key_pem = _require_ascii(
            tls.client_key_pem, ConnectFailure.INVALID_CLIENT_CERT, "client key"
        )
        cert_path = tls_dir / CLIENT_CERT_FILE
        key_path = tls_dir / CLIENT_KEY_FILE
        write_private_file(cert_path, cert_pem)
        write_private_file(key_path, key_pem)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, ValueError) as err:
            raise MqttConnectError(ConnectFailure.INVALID_CLIENT_CERT, str(err)) from err
    return ctx
