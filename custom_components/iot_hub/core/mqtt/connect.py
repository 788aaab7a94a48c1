"""Build the paho client for a broker and open its connection.

The blocking parts (reading TLS material, the TCP/TLS/websocket handshakes)
run in the executor; failures become MqttConnectError with a precise reason.
"""

import ssl
from typing import Any

from paho.mqtt.client import MQTTv5, MQTTv311
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ._paho import PahoClient
from .errors import ConnectFailure, MqttConnectError
from .settings import BrokerSettings, Protocol, Transport
from .tls import build_ssl_context

# CONNACK reason codes meaning "your credentials are refused":
# MQTT 5 134 (bad user name or password) and 135 (not authorized),
# MQTT 3.1.1 return codes 4 and 5 (paho maps them to the same reason codes).
AUTH_REASON_CODES = frozenset({4, 5, 134, 135})


def build_paho(settings: BrokerSettings, connect_timeout: float) -> PahoClient:
    """Create the paho client (executor: building the TLS context reads files)."""
    v5 = settings.protocol is Protocol.V5
    client = PahoClient(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        clean_session=None if v5 else settings.clean_session,
        protocol=MQTTv5 if v5 else MQTTv311,
        transport="websockets" if settings.transport is Transport.WEBSOCKETS else "tcp",
        reconnect_on_failure=False,
    )
    client.suppress_exceptions = True
    if settings.transport is Transport.WEBSOCKETS:
        client.ws_set_options(path=settings.ws_path or "/")
    if settings.username:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls.enabled:
        client.tls_set_context(build_ssl_context(settings.tls, settings.tls_dir))
        if not settings.tls.verify:
            client.tls_insecure_set(True)
    client.connect_timeout = connect_timeout
    return client


def blocking_connect(client: PahoClient, settings: BrokerSettings) -> None:
    """TCP/TLS/websocket connect and queue CONNECT (executor)."""
    kwargs: dict[str, Any] = {}
    if settings.protocol is Protocol.V5:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0 if settings.clean_session else settings.session_expiry
        kwargs = {"clean_start": settings.clean_session, "properties": props}
    tls = settings.tls.enabled
    try:
        client.connect(settings.host, settings.port, settings.keepalive, **kwargs)
    except ssl.SSLCertVerificationError as err:  # alias ssl.CertificateError (hostname too)
        raise MqttConnectError(ConnectFailure.INVALID_CERTIFICATE, str(err)) from err
    except ssl.SSLError as err:
        raise MqttConnectError(ConnectFailure.TLS_ERROR, str(err)) from err
    except TimeoutError as err:
        raise MqttConnectError(ConnectFailure.TIMEOUT, str(err)) from err
    except ConnectionRefusedError as err:
        raise MqttConnectError(ConnectFailure.CANNOT_CONNECT, str(err)) from err
    except (ConnectionResetError, BrokenPipeError) as err:
        reason = ConnectFailure.TLS_ERROR if tls else ConnectFailure.CANNOT_CONNECT
        raise MqttConnectError(reason, str(err)) from err
    except (OSError, ValueError) as err:
        # socket.gaierror, unreachable networks, websocket handshake errors.
        raise MqttConnectError(ConnectFailure.CANNOT_CONNECT, str(err)) from err


def connack_refusal(reason: ReasonCode) -> MqttConnectError:
    """Return the error for a CONNACK that refused the connection."""
    code = (
        ConnectFailure.INVALID_AUTH
        if reason.value in AUTH_REASON_CODES
        else ConnectFailure.CANNOT_CONNECT
    )
    return MqttConnectError(code, f"broker refused: {reason} ({reason.value})")
