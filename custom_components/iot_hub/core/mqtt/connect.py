"""Build the paho client for a broker and open its connection.

The blocking parts (reading TLS material, the TCP/TLS/websocket handshakes)
run in the executor; failures become MqttConnectError with a precise reason.
"""

import ssl
from typing import Any
from weakref import WeakKeyDictionary

from paho.mqtt.client import MQTTv5, MQTTv311
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ._paho import PahoClient
from .errors import ConnectFailure, MqttConnectError
from .settings import BrokerSettings, Protocol, Transport
from .tls import TlsAlerts, build_ssl_context, tls_failure

# CONNACK reason codes meaning "your credentials are refused":
# MQTT 5 134 (bad user name or password) and 135 (not authorized),
# MQTT 3.1.1 return codes 4 and 5 (paho maps them to the same reason codes).
AUTH_REASON_CODES = frozenset({4, 5, 134, 135})
LOST_BEFORE_CONNACK = "connection lost before CONNACK"

# The TLS errors of each TLS client's reads (see TlsAlerts), until the client is gone.
_ALERTS: WeakKeyDictionary[PahoClient, TlsAlerts] = WeakKeyDictionary()


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
        ctx = build_ssl_context(settings.tls, settings.tls_dir)
        _ALERTS[client] = TlsAlerts(ctx)
        client.tls_set_context(ctx)
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
    if (alerts := _ALERTS.get(client)) is not None:
        alerts.error = None  # an earlier connection's
    try:
        client.connect(settings.host, settings.port, settings.keepalive, **kwargs)
    except ssl.SSLError as err:  # SSLCertVerificationError (ssl.CertificateError) too
        raise tls_failure(err, settings.tls) from err
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


def lost_before_connack(client: PahoClient | None, settings: BrokerSettings) -> MqttConnectError:
    """Return the error for a connection that ended before its CONNACK.

    A TLS listener dropping us after the handshake looks like this; with TLS 1.3
    the broker's alert about our client certificate (kept by TlsAlerts) says why.
    """
    if not settings.tls.enabled:
        return MqttConnectError(ConnectFailure.CANNOT_CONNECT, LOST_BEFORE_CONNACK)
    alerts = _ALERTS.get(client) if client is not None else None
    if alerts is not None and alerts.error is not None:
        return tls_failure(alerts.error, settings.tls)
    return MqttConnectError(ConnectFailure.TLS_ERROR, LOST_BEFORE_CONNACK)


def connack_refusal(reason: ReasonCode) -> MqttConnectError:
    """Return the error for a CONNACK that refused the connection."""
    code = (
        ConnectFailure.INVALID_AUTH
        if reason.value in AUTH_REASON_CODES
        else ConnectFailure.CANNOT_CONNECT
    )
    return MqttConnectError(code, f"broker refused: {reason} ({reason.value})")
