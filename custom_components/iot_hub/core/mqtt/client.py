"""An MQTT client driven by the asyncio event loop (paho-mqtt 2.x, no thread).

paho does the protocol; this module owns the socket plumbing: the socket is
watched with ``add_reader``/``add_writer``, keep-alive runs from a one-second
timer, and only the blocking parts (TLS context, TCP/TLS/websocket connect)
run in the default executor. Every paho call other than ``connect`` happens on
the loop thread, so all user callbacks run there too.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
import socket
import ssl
import threading
from typing import Any

from paho.mqtt.client import (
    Client,
    ConnectFlags,
    DisconnectFlags,
    MQTTMessage,
    MQTTv5,
    MQTTv311,
)
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .backoff import Backoff
from .errors import (
    ConnectFailure,
    MqttConnectError,
    MqttError,
    MqttNotConnectedError,
    MqttTimeoutError,
)
from .settings import BrokerSettings, Protocol, Transport
from .tls import build_ssl_context

_LOGGER = logging.getLogger(__name__)
_PAHO_LOGGER = logging.getLogger(f"{__name__}.paho")

# CONNACK reason codes meaning "your credentials are refused":
# MQTT 5 134 (bad user name or password) and 135 (not authorized),
# MQTT 3.1.1 return codes 4 and 5 (paho maps them to the same reason codes).
AUTH_REASON_CODES = frozenset({4, 5, 134, 135})
# Packets read per readiness callback before yielding back to the loop.
MAX_READS_PER_WAKEUP = 100
# One recv() takes this much; paho's 1-byte header reads are then served from it.
READ_CHUNK = 64 * 1024
MISC_INTERVAL = 1.0

type MessageCallback = Callable[[str, bytes, int, bool], None]
type ConnectionCallback = Callable[[bool], None]
type AuthFailedCallback = Callable[[MqttConnectError], None]


@dataclass(slots=True)
class ClientStats:
    """Counters shown in diagnostics."""

    connects: int = 0
    connection_losses: int = 0
    failed_attempts: int = 0
    messages_received: int = 0
    messages_published: int = 0
    undecodable_topics: int = 0
    last_error: str | None = None


def _buffered(sock: Any) -> bool:
    """Whether bytes wait inside the socket object (TLS record, websocket frame).

    The fd's readiness does not report bytes OpenSSL has already decrypted.
    """
    pending = getattr(sock, "pending", None)
    return bool(pending is not None and pending() > 0)


class _Client(Client):
    """paho's Client with bounded handshakes and buffered reads.

    paho uses the keep-alive interval (up to an hour here) as the socket timeout
    of the TLS and websocket handshakes, so a server that accepts TCP and then
    stays silent held connect() -- and close(), which waits for it -- that long.

    paho reads a packet as recv(1) for the type, recv(1) per length byte, then
    recv(rest): three system calls for a small PUBLISH. Here one recv() takes
    what the kernel has and those reads slice it (paho 2.1's `_sock_recv` is
    the only place paho reads the socket from).
    """

    _rbuf: bytes = b""
    _rpos: int = 0
    _filled: bool = False  # the last recv() got all it asked for: the kernel may hold more

    def _create_socket(self) -> Any:
        # Runs in the executor within connect(); nothing reads _keepalive meanwhile.
        self._rbuf, self._rpos = b"", 0  # nothing of an earlier connection
        keepalive = self._keepalive
        self._keepalive = self._connect_timeout  # type: ignore[assignment]
        try:
            return super()._create_socket()
        finally:
            self._keepalive = keepalive

    def _sock_recv(self, bufsize: int) -> bytes:
        buf, pos = self._rbuf, self._rpos
        if pos >= len(buf):
            wanted = max(bufsize, READ_CHUNK)
            self._filled = False
            # Raises what paho expects (BlockingIOError when empty); b"" is EOF.
            data = super()._sock_recv(wanted)
            self._filled = len(data) == wanted
            if len(data) <= bufsize:
                return data
            self._rbuf = buf = data
            pos = 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def buffered(self) -> bool:
        """Whether bytes already taken from the kernel (here or by TLS) wait to be read."""
        return self._rpos < len(self._rbuf) or _buffered(self._sock)

    def kernel_drained(self) -> bool:
        """Whether the last recv() took less than it asked for (so the kernel had no more)."""
        return not self._filled

    def _handle_on_message(self, message: MQTTMessage) -> None:
        # paho first looks the topic up in its per-filter callback table, through
        # a recursive closure: a reference cycle of ~9 objects per message that
        # only the garbage collector frees, so collections (full ones included)
        # come several times as often. We register no per-filter callback.
        on_message = self.on_message
        if on_message is not None:
            on_message(self, self._userdata, message)


class MqttClient:
    """One broker connection: connect, subscribe, publish, reconnect, close."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        on_message: MessageCallback,
        on_connection_change: ConnectionCallback | None = None,
        on_auth_failed: AuthFailedCallback | None = None,
        backoff: Backoff | None = None,
        connect_timeout: float = 10.0,
        ack_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.stats = ClientStats()
        self._on_message_cb = on_message
        self._on_connection_change = on_connection_change
        self._on_auth_failed = on_auth_failed
        self._backoff = backoff or Backoff()
        self._connect_timeout = connect_timeout
        self._ack_timeout = ack_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._paho: _Client | None = None
        self._sock: Any = None
        self._misc_handle: asyncio.TimerHandle | None = None
        self._connack: asyncio.Future[ReasonCode] | None = None
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._subscriptions: dict[str, int] = {}
        self._connected = False
        self._closing = False
        self._attempt_lock = asyncio.Lock()
        self._connect_job: asyncio.Future[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ API

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection and it is up."""
        return self._connected

    @property
    def subscriptions(self) -> dict[str, int]:
        """Topic filters and their QoS, kept across reconnects."""
        return dict(self._subscriptions)

    async def connect(self) -> None:
        """Connect once; raise MqttConnectError with the precise reason on failure.

        After a successful first connection the client reconnects by itself.
        """
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = False
        self._paho = await self._loop.run_in_executor(None, self._make_paho)
        try:
            await self._attempt()
        except BaseException:
            self._drop_socket()
            raise
        self._backoff.reset()
        self._set_connected()

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now if connected (waiting for SUBACK) and after every reconnect."""
        self._subscriptions[topic] = qos
        if not self._connected or self._paho is None:
            return
        rc, mid = self._paho.subscribe(topic, qos)
        if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise MqttError(f"subscribe to {topic} failed: {rc.name}")
        await self._wait_ack(mid, f"SUBACK for {topic}")

    async def unsubscribe(self, topic: str) -> None:
        """Forget a subscription and unsubscribe if connected."""
        if self._subscriptions.pop(topic, None) is None:
            return
        if self._connected and self._paho is not None:
            rc, mid = self._paho.unsubscribe(topic)
            if rc is MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                await self._wait_ack(mid, f"UNSUBACK for {topic}")

    async def publish(
        self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish; for QoS > 0 return once the broker acknowledged it."""
        if not self._connected or self._paho is None:
            raise MqttNotConnectedError(f"not connected to {self._where}")
        info = self._paho.publish(topic, payload, qos, retain)
        if info.rc is not MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} failed: {info.rc.name}")
        self.stats.messages_published += 1
        if qos > 0:
            await self._wait_ack(info.mid, f"PUBACK for {topic}")

    async def close(self) -> None:
        """Disconnect cleanly, leaving no socket, timer, task or thread behind."""
        self._closing = True
        # Taken first: cancelling the reconnect task clears it, the job runs on.
        connect_job = self._connect_job
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            await asyncio.gather(self._reconnect_task, return_exceptions=True)
            self._reconnect_task = None
        if connect_job is not None:
            # A connect running in the executor cannot be cancelled: let it end.
            await asyncio.gather(connect_job, return_exceptions=True)
        paho = self._paho
        if paho is not None and paho.socket() is not None and self._connected:
            paho.disconnect()
            # disconnect() only queues DISCONNECT; write it now (paho then closes).
            paho.loop_write()
        self._connected = False
        self._drop_socket()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MqttNotConnectedError("client closed"))
        self._pending.clear()

    # ------------------------------------------------------- connection setup

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _make_paho(self) -> _Client:
        """Create the paho client (executor: building the TLS context reads files)."""
        settings = self.settings
        v5 = settings.protocol is Protocol.V5
        client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=None if v5 else settings.clean_session,
            protocol=MQTTv5 if v5 else MQTTv311,
            transport="websockets" if settings.transport is Transport.WEBSOCKETS else "tcp",
            reconnect_on_failure=False,
        )
        client.suppress_exceptions = True
        # paho reports expected network failures at ERROR; we log those ourselves,
        # once per cause, so its own lines are debug material.
        if _PAHO_LOGGER.isEnabledFor(logging.DEBUG):
            # Not otherwise: paho formats a line for every packet when on_log is set.
            client.on_log = self._on_paho_log
        if settings.transport is Transport.WEBSOCKETS:
            client.ws_set_options(path=settings.ws_path or "/")
        if settings.username:
            client.username_pw_set(settings.username, settings.password)
        if settings.tls.enabled:
            client.tls_set_context(build_ssl_context(settings.tls, settings.tls_dir))
            if not settings.tls.verify:
                client.tls_insecure_set(True)
        client.connect_timeout = self._connect_timeout
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_ack
        client.on_subscribe = self._on_suback
        client.on_unsubscribe = self._on_unsuback
        client.on_socket_open = self._threadsafe(self._on_socket_open)
        client.on_socket_close = self._threadsafe(self._on_socket_close)
        client.on_socket_register_write = self._threadsafe(self._on_register_write)
        client.on_socket_unregister_write = self._threadsafe(self._on_unregister_write)
        return client

    def _threadsafe(
        self, func: Callable[[Client, Any, Any], None]
    ) -> Callable[[Client, Any, Any], None]:
        """Run a socket callback on the loop even when paho calls it from the executor."""

        def wrapper(client: Client, userdata: Any, sock: Any) -> None:
            assert self._loop is not None
            if threading.get_ident() == self._loop_thread:
                func(client, userdata, sock)
            else:
                self._loop.call_soon_threadsafe(func, client, userdata, sock)

        return wrapper

    def _blocking_connect(self) -> None:
        """TCP/TLS/websocket connect and queue CONNECT (executor)."""
        assert self._paho is not None
        settings = self.settings
        kwargs: dict[str, Any] = {}
        if settings.protocol is Protocol.V5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0 if settings.clean_session else settings.session_expiry
            kwargs = {"clean_start": settings.clean_session, "properties": props}
        tls = settings.tls.enabled
        try:
            self._paho.connect(settings.host, settings.port, settings.keepalive, **kwargs)
        except ssl.SSLCertVerificationError as err:
            raise MqttConnectError(ConnectFailure.INVALID_CERTIFICATE, str(err)) from err
        except ssl.CertificateError as err:  # hostname mismatch on older paths
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

    async def _attempt(self) -> None:
        """One connection attempt up to CONNACK; raise MqttConnectError on failure."""
        assert self._loop is not None
        async with self._attempt_lock:
            self._connack = self._loop.create_future()
            self._connect_job = self._loop.run_in_executor(None, self._blocking_connect)
            try:
                # Shielded: cancelling the caller must not orphan the running job,
                # close() waits for it and then closes the socket it opened.
                await asyncio.shield(self._connect_job)
            finally:
                self._connect_job = None
            if self._closing:
                raise MqttNotConnectedError("client closed")
            try:
                async with asyncio.timeout(self._connect_timeout):
                    reason = await self._connack
            except TimeoutError as err:
                raise MqttConnectError(
                    ConnectFailure.TIMEOUT, f"no CONNACK within {self._connect_timeout} s"
                ) from err
            finally:
                self._connack = None
            if reason.is_failure:
                code = (
                    ConnectFailure.INVALID_AUTH
                    if reason.value in AUTH_REASON_CODES
                    else (ConnectFailure.CANNOT_CONNECT)
                )
                raise MqttConnectError(code, f"broker refused: {reason} ({reason.value})")
            if self._sock is None:
                # Dropped while CONNACK was being handled (the broker sent it and
                # then something paho refused, or hung up): no connection to report.
                raise MqttConnectError(
                    ConnectFailure.CANNOT_CONNECT, "connection lost after CONNACK"
                )

    def _set_connected(self) -> None:
        self._connected = True
        self.stats.connects += 1
        if self._on_connection_change is not None:
            self._on_connection_change(True)

    def _drop_socket(self) -> None:
        """Close paho's socket (if any); on_socket_close does the unregistering."""
        if self._paho is not None:
            # Private, but the only way to close without sending DISCONNECT;
            # paho is pinned to the version HA pins.
            self._paho._reset_sockets()
        self._unwatch()

    # ------------------------------------------------------------ reconnect

    def _start_reconnecting(self) -> None:
        if self._closing or self._reconnect_task is not None:
            return
        assert self._loop is not None
        self._reconnect_task = self._loop.create_task(
            self._reconnect_loop(), name=f"iot_hub reconnect {self._where}"
        )

    async def _reconnect_loop(self) -> None:
        try:
            while not self._closing:
                delay = self._backoff.next_delay()
                _LOGGER.debug("Reconnecting to %s in %.1f s", self._where, delay)
                await asyncio.sleep(delay)
                try:
                    await self._attempt()
                except MqttNotConnectedError:
                    return
                except MqttConnectError as err:
                    self._drop_socket()
                    self.stats.failed_attempts += 1
                    self.stats.last_error = str(err)
                    if err.is_auth:
                        _LOGGER.error(
                            "Broker %s refused the credentials; not reconnecting", self._where
                        )
                        if self._on_auth_failed is not None:
                            self._on_auth_failed(err)
                        return
                    _LOGGER.debug("Reconnect to %s failed: %s", self._where, err)
                    continue
                except Exception:
                    # Never let the reconnect loop die silently.
                    self._drop_socket()
                    _LOGGER.exception("Unexpected error reconnecting to %s", self._where)
                    continue
                self._backoff.reset()
                # Subscribe before reporting "back": a message published the
                # moment the user sees the connection restored must arrive.
                if not await self._resubscribe() or self._sock is None:
                    self._drop_socket()
                    continue
                _LOGGER.info("Connection to MQTT broker %s is back", self._where)
                self._set_connected()
                return
        finally:
            self._reconnect_task = None

    async def _resubscribe(self) -> bool:
        """Send every known subscription again (the broker may have lost them).

        Return False when the connection dropped before the broker answered.
        """
        topics = list(self._subscriptions.items())
        if not topics or self._paho is None:
            return True
        rc, mid = self._paho.subscribe(topics)
        if rc is not MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            return False
        try:
            await self._wait_ack(mid, "SUBACK after reconnect")
        except MqttNotConnectedError, MqttTimeoutError:
            return False
        except MqttError as err:
            # Refused topics stay refused; the connection itself is fine.
            _LOGGER.warning("Resubscribing on %s failed: %s", self._where, err)
        return True

    # ------------------------------------------------------------- acks

    async def _wait_ack(self, mid: int, what: str) -> None:
        assert self._loop is not None
        fut = self._pending.setdefault(mid, self._loop.create_future())
        try:
            async with asyncio.timeout(self._ack_timeout):
                await fut
        except TimeoutError as err:
            raise MqttTimeoutError(f"no {what} from {self._where}") from err
        finally:
            self._pending.pop(mid, None)

    def _resolve(self, mid: int, error: Exception | None = None) -> None:
        fut = self._pending.get(mid)
        if fut is None:
            # The ack beat the waiter (cannot happen on one loop) or nobody waits (QoS 0).
            return
        if fut.done():
            return
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)

    def _on_ack(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        refused = reason_code.is_failure
        self._resolve(mid, MqttError(f"broker refused publish: {reason_code}") if refused else None)

    def _on_suback(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties,
    ) -> None:
        refused = [str(code) for code in reason_codes if code.is_failure]
        self._resolve(mid, MqttError(f"subscription refused: {refused}") if refused else None)

    def _on_unsuback(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self._resolve(mid)

    # --------------------------------------------------- protocol callbacks

    def _on_connect(
        self,
        client: Client,
        userdata: Any,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self._connack is not None and not self._connack.done():
            self._connack.set_result(reason_code)

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._connected:
            return
        self._connected = False
        if self._closing:
            # Our own DISCONNECT from close(): no loss, no error.
            return
        self.stats.connection_losses += 1
        self.stats.last_error = str(reason_code)
        _LOGGER.warning("Lost connection to MQTT broker %s: %s", self._where, reason_code)
        if self._on_connection_change is not None:
            self._on_connection_change(False)
        self._start_reconnecting()

    def _on_paho_log(self, client: Client, userdata: Any, level: int, message: str) -> None:
        _PAHO_LOGGER.debug("%s: %s", self._where, message)

    def _on_message(self, client: Client, userdata: Any, msg: MQTTMessage) -> None:
        self.stats.messages_received += 1
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self.stats.undecodable_topics += 1
            return
        try:
            self._on_message_cb(topic, msg.payload, msg.qos, msg.retain)
        except Exception:
            # A bug in a consumer must not take the connection down.
            _LOGGER.exception("Error handling message on %s", topic)

    # ----------------------------------------------------- socket plumbing

    def _on_socket_open(self, client: Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        current = client.socket()
        if current is None or current is not sock or self._closing:
            return
        self._sock = current
        self._loop.add_reader(current, self._on_readable)
        self._misc_handle = self._loop.call_later(MISC_INTERVAL, self._misc)

    def _on_socket_close(self, client: Client, userdata: Any, sock: Any) -> None:
        if sock is self._sock:
            self._unwatch()
        # Nobody acknowledges on a closed connection: fail the waiters now.
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MqttNotConnectedError(f"lost connection to {self._where}"))
        if self._connack is not None and not self._connack.done():
            # Lost before CONNACK: a TLS listener dropping us after the handshake
            # (missing client certificate) looks exactly like this.
            tls = self.settings.tls.enabled
            reason = ConnectFailure.TLS_ERROR if tls else ConnectFailure.CANNOT_CONNECT
            self._connack.set_exception(MqttConnectError(reason, "connection lost before CONNACK"))

    def _unwatch(self) -> None:
        sock, self._sock = self._sock, None
        if self._misc_handle is not None:
            self._misc_handle.cancel()
            self._misc_handle = None
        if sock is not None and self._loop is not None:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _on_register_write(self, client: Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        current = client.socket()
        if current is not None and current is sock and not self._closing:
            self._loop.add_writer(current, self._on_writable)

    def _on_unregister_write(self, client: Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.remove_writer(sock)

    def _on_readable(self) -> None:
        paho, sock = self._paho, self._sock
        if paho is None or sock is None:
            return
        # paho reads one packet per loop_read() call for QoS 0 traffic: drain
        # what is already here instead of paying a selector wake-up per message.
        # A call that delivered no PUBLISH most likely found the socket empty;
        # stop there (level-triggered: anything left in the kernel wakes us again).
        # On a plain TCP socket a short recv() means the kernel was empty: stop
        # there instead of paying a failing recv() per wake-up (what arrives
        # meanwhile wakes us). TLS and websocket reads are short by nature.
        plain = type(sock) is socket.socket
        stats = self.stats
        for _ in range(MAX_READS_PER_WAKEUP):
            received = stats.messages_received
            if paho.loop_read() is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
            if self._sock is not sock:
                return
            if paho.buffered():
                continue
            if (plain and paho.kernel_drained()) or stats.messages_received == received:
                return
        if paho.buffered():
            # Bytes already read from the kernel wake no selector: come back for them.
            assert self._loop is not None
            self._loop.call_soon(self._on_readable)

    def _on_writable(self) -> None:
        assert self._paho is not None
        self._paho.loop_write()

    def _misc(self) -> None:
        self._misc_handle = None
        paho = self._paho
        if paho is None or self._sock is None:
            return
        if paho.loop_misc() is MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None:
            assert self._loop is not None
            self._misc_handle = self._loop.call_later(MISC_INTERVAL, self._misc)
