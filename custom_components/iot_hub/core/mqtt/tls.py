"""Build the SSL context for a broker connection (blocking: run in an executor)."""

from collections.abc import Buffer
import contextlib
import os
from pathlib import Path
import ssl

from .errors import ConnectFailure, MqttConnectError
from .settings import TlsMode, TlsSettings

CLIENT_CERT_FILE = "client.crt"
CLIENT_KEY_FILE = "client.key"
# Enough for a TLS record holding an alert (read after a failed write).
ALERT_READ_SIZE = 1024
# OpenSSL's verify code for a certificate (the broker's or a CA's) past its notAfter.
X509_V_ERR_CERT_HAS_EXPIRED = 10
# What the broker's alert (ssl.SSLError.reason) says about our client certificate.
_REJECTED = ConnectFailure.CLIENT_CERT_REJECTED
CLIENT_CERT_ALERTS = {
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": ConnectFailure.CLIENT_CERT_EXPIRED,
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": ConnectFailure.CLIENT_CERT_REQUIRED,
    "TLSV1_ALERT_UNKNOWN_CA": _REJECTED,
    "SSLV3_ALERT_BAD_CERTIFICATE": _REJECTED,
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": _REJECTED,
    "SSLV3_ALERT_CERTIFICATE_REVOKED": _REJECTED,
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": _REJECTED,
    "TLSV1_ALERT_ACCESS_DENIED": _REJECTED,
}


def tls_failure(err: ssl.SSLError, tls: TlsSettings) -> MqttConnectError:
    """Return the precise failure a TLS error of the handshake or of the first read means.

    Our verification of the broker raises SSLCertVerificationError (an expired
    certificate has its own verify code). The broker's verdict on our client
    certificate arrives as an alert: in the handshake with TLS 1.2, on the first read
    with TLS 1.3. Without a client certificate, any complaint about it means the
    broker wants one.
    """
    if isinstance(err, ssl.SSLCertVerificationError):
        expired = err.verify_code == X509_V_ERR_CERT_HAS_EXPIRED
        reason = (
            ConnectFailure.CERTIFICATE_EXPIRED if expired else ConnectFailure.INVALID_CERTIFICATE
        )
        return MqttConnectError(reason, str(err))
    reason = CLIENT_CERT_ALERTS.get(err.reason or "", ConnectFailure.TLS_ERROR)
    if reason is not ConnectFailure.TLS_ERROR and not tls.client_cert_pem:
        reason = ConnectFailure.CLIENT_CERT_REQUIRED
    return MqttConnectError(reason, str(err))


class TlsAlerts:
    """Keep the TLS error that ended the latest read on the connections of a context.

    With TLS 1.3 the broker judges our client certificate after our side of the
    handshake is done: its verdict (an alert such as "certificate expired") comes
    with the first read, where paho only logs it and reports a lost connection.
    A broker quick to refuse (no certificate at all) may also reset the connection
    before we write CONNECT: the alert is then read right after the failed write.
    """

    def __init__(self, ctx: ssl.SSLContext) -> None:
        """Make the sockets `ctx` wraps from now on keep their TLS errors here."""
        self.error: ssl.SSLError | None = None
        alerts = self

        class AlertKeepingSocket(ssl.SSLSocket):
            """An SSLSocket that reports the TLS error of a failed read to `alerts`."""

            def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
                try:
                    return super().recv(buflen, flags)
                except ssl.SSLWantReadError, ssl.SSLWantWriteError:
                    raise
                except ssl.SSLError as err:
                    alerts.error = err
                    raise

            def send(self, data: Buffer, flags: int = 0) -> int:
                try:
                    return super().send(data, flags)
                except ConnectionError:
                    # Reset or closed: a read returns at once, with the alert if one came.
                    with contextlib.suppress(OSError, ValueError):
                        self.recv(ALERT_READ_SIZE)
                    raise

        # Public API: the class SSLContext.wrap_socket (which paho calls) returns.
        ctx.sslsocket_class = AlertKeepingSocket


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
