"""Connection settings of an MQTT broker."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Transport(StrEnum):
    """How the MQTT bytes travel."""

    TCP = "tcp"
    WEBSOCKETS = "websockets"


class Protocol(StrEnum):
    """MQTT protocol version."""

    V311 = "3.1.1"
    V5 = "5"


class TlsMode(StrEnum):
    """Whether and how the broker certificate is checked."""

    OFF = "off"
    SYSTEM_CA = "system"
    CUSTOM_CA = "custom"


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS material; PEM text, written to files only where `ssl` insists."""

    mode: TlsMode = TlsMode.OFF
    ca_pem: str | None = None
    verify: bool = True
    client_cert_pem: str | None = None
    client_key_pem: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether TLS is used at all."""
        return self.mode is not TlsMode.OFF


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Everything needed to reach and log in to one broker."""

    host: str
    port: int
    client_id: str
    transport: Transport = Transport.TCP
    ws_path: str = "/mqtt"
    tls: TlsSettings = TlsSettings()
    username: str | None = None
    password: str | None = None
    keepalive: int = 60
    protocol: Protocol = Protocol.V311
    clean_session: bool = False
    # Where the client certificate and key are written for `ssl` to load them.
    tls_dir: Path | None = None
    # MQTT 5 session expiry for persistent sessions (seconds).
    session_expiry: int = 3600
