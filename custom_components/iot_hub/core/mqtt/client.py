"""An MQTT client driven by the asyncio event loop (paho-mqtt 2.x, no thread).

paho does the protocol; `socket_bridge` watches its socket on the loop, and
only the blocking parts (TLS context, TCP/TLS/websocket connect, see `connect`)
run in the default executor. Every paho call other than ``connect`` happens on
the loop thread, so all user callbacks run there too. Acks are awaited through
`acks` (resolved by `ack_callbacks`); paho's private API is used in `_paho` only.
`takeover` judges lost connections: only one that lived long enough resets the
reconnect backoff.
"""

import asyncio
from collections.abc import Callable
import logging
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ._paho import PahoClient
from .ack_callbacks import wire_acks
from .acks import AckWaiters
from .backoff import Backoff
from .connect import blocking_connect, build_paho, connack_refusal, lost_before_connack
from .errors import (
    ConnectFailure,
    MqttConnectError,
    MqttError,
    MqttNotConnectedError,
    MqttTimeoutError,
)
from .settings import BrokerSettings
from .socket_bridge import SocketBridge
from .stats import ClientStats
from .takeover import TakeoverDetector

__all__ = ["ClientStats", "MqttClient"]

_LOGGER = logging.getLogger(__name__)
_PAHO_LOGGER = logging.getLogger(f"{__name__}.paho")

type MessageCallback = Callable[[str, bytes, int, bool], None]
type ConnectionCallback = Callable[[bool], None]
type AuthFailedCallback = Callable[[MqttConnectError], None]


class MqttClient:
    """One broker connection: connect, subscribe, publish, reconnect, close."""

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        on_message: MessageCallback,
        on_connection_change: ConnectionCallback | None = None,
        on_auth_failed: AuthFailedCallback | None = None,
        on_attempt_failed: AuthFailedCallback | None = None,
        on_takeover: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
        takeover: TakeoverDetector | None = None,
        connect_timeout: float = 10.0,
        ack_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.stats = ClientStats()
        self._on_message_cb = on_message
        self._on_connection_change = on_connection_change
        self._on_auth_failed = on_auth_failed
        # Every other failed reconnect attempt (the owner may change settings, e.g. renew
        # a client certificate the broker no longer accepts).
        self._on_attempt_failed = on_attempt_failed
        # Called on a loss that says another client uses our client id (see `takeover`).
        self._on_takeover = on_takeover
        self._backoff = backoff or Backoff()
        self.takeover = takeover or TakeoverDetector()
        self._connect_timeout = connect_timeout
        self._ack_timeout = ack_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._paho: PahoClient | None = None
        self._bridge = SocketBridge(self.stats, self._on_socket_closed)
        self._connack: asyncio.Future[ReasonCode] | None = None
        self._acks = AckWaiters()
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
        self._loop = loop = asyncio.get_running_loop()
        self._closing = self._bridge.closing = False
        paho = await loop.run_in_executor(None, build_paho, self.settings, self._connect_timeout)
        self._wire(paho)
        self._bridge.attach(loop, paho)
        self._paho = paho
        try:
            await self._attempt()
        except BaseException:
            self._bridge.drop()
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
        self._closing = self._bridge.closing = True
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
        self._bridge.drop()
        self._acks.fail_all(MqttNotConnectedError("client closed"))

    # ------------------------------------------------------- connection setup

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _wire(self, paho: PahoClient) -> None:
        """Route paho's protocol callbacks here."""
        # paho reports expected network failures at ERROR; we log those ourselves,
        # once per cause, so its own lines are debug material.
        if _PAHO_LOGGER.isEnabledFor(logging.DEBUG):
            # Not otherwise: paho formats a line for every packet when on_log is set.
            paho.on_log = self._on_paho_log
        paho.on_connect = self._on_connect
        paho.on_disconnect = self._on_disconnect
        paho.on_message = self._on_message
        wire_acks(paho, self._acks)

    async def _attempt(self) -> None:
        """One connection attempt up to CONNACK; raise MqttConnectError on failure."""
        assert self._loop is not None
        assert self._paho is not None
        async with self._attempt_lock:
            self._connack = self._loop.create_future()
            self._connect_job = self._loop.run_in_executor(
                None, blocking_connect, self._paho, self.settings
            )
            try:
                # Shielded: cancelling the caller must not orphan the running job,
                # close() waits for it and then closes the socket it opened.
                await asyncio.shield(self._connect_job)
            except BaseException:
                # Nobody will await this CONNACK: no "exception never retrieved".
                self._connack = None
                raise
            finally:
                self._connect_job = None
            if self._closing:
                self._connack = None
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
                raise connack_refusal(reason)
            if self._bridge.sock is None:
                # Dropped while CONNACK was being handled (the broker sent it and
                # then something paho refused, or hung up): no connection to report.
                raise MqttConnectError(
                    ConnectFailure.CANNOT_CONNECT, "connection lost after CONNACK"
                )
            self.takeover.established()

    def _set_connected(self) -> None:
        self._connected = True
        self.stats.connects += 1
        if self._on_connection_change is not None:
            self._on_connection_change(True)

    def _on_socket_closed(self) -> None:
        # Nobody acknowledges on a closed connection: fail the waiters now.
        self._acks.fail_all(MqttNotConnectedError(f"lost connection to {self._where}"))
        if self._connack is not None and not self._connack.done():
            # Lost before CONNACK: a TLS listener refusing our client certificate after the
            # handshake (TLS 1.3) looks exactly like this; its alert, if any, says why.
            self._connack.set_exception(lost_before_connack(self._paho, self.settings))

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
                    self._bridge.drop()
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
                    if self._on_attempt_failed is not None:
                        self._on_attempt_failed(err)
                    continue
                except Exception:
                    # Never let the reconnect loop die silently.
                    self._bridge.drop()
                    _LOGGER.exception("Unexpected error reconnecting to %s", self._where)
                    continue
                # Subscribe before reporting "back": a message published the
                # moment the user sees the connection restored must arrive.
                if not await self._resubscribe() or self._bridge.sock is None:
                    self._bridge.drop()
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
        try:
            async with asyncio.timeout(self._ack_timeout):
                await self._acks.wait(mid)
        except TimeoutError as err:
            raise MqttTimeoutError(f"no {what} from {self._where}") from err

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
        if self._closing:
            # Our own DISCONNECT from close(): no loss, no error.
            self._connected = False
            return
        if self.takeover.up:
            # Judged even when lost before it was reported (while resubscribing). Only
            # a connection that lived long enough resets the backoff: two clients with
            # one id would otherwise kick each other in a tight loop.
            if self.takeover.lost(reason_code.value):
                self._backoff.reset()
            if self.takeover.suspected and self._on_takeover is not None:
                self._on_takeover()
        if not self._connected:
            return
        self._connected = False
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
            _LOGGER.exception("Error handling message on %s", topic[:120])
