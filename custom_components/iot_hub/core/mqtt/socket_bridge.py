"""Drive paho's socket from the asyncio event loop (no network thread).

The socket is watched with ``add_reader``/``add_writer`` while paho wants to
write, and keep-alive runs from a timer: every second, and exactly when a ping
or its answer is due. paho announces sockets from the executor too (connect()
runs there), so those callbacks hop to the loop.
"""

import asyncio
from collections.abc import Callable
import math
import socket
import threading
import time
from typing import Any, cast

from paho.mqtt.client import CallbackOnDisconnect_v2, Client, DisconnectFlags
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ._paho import PahoClient
from .stats import ClientStats

# Packets read per readiness callback before yielding back to the loop, and the
# time that may take: messages costing milliseconds each (a burst of new devices,
# whose entities Home Assistant adds as each one arrives) must not hold the loop.
MAX_READS_PER_WAKEUP = 100
MAX_READ_SECONDS_PER_WAKEUP = 0.01
MISC_INTERVAL = 1.0
# paho pings after a keep-alive of silence and then waits a whole keep-alive for
# any answer: a half-open connection (no FIN, no RST, only silence) took two
# keep-alives to notice. The broker must answer within half of one here, so the
# loss shows 1.5 keep-alives after the last byte received: what MQTT gives a
# server to notice a silent client. Time is paho's clock (time.monotonic).
PING_ANSWER_KEEPALIVES = 0.5
# Past "one keep-alive since the last byte" so that paho's own check finds it due.
_PING_MARGIN = 0.001

type SocketCallback = Callable[[Client, Any, Any], None]


class SocketBridge:
    """Watches the socket of one paho client on the event loop.

    `on_closed` runs whenever paho closes a socket, after it is unwatched.
    """

    def __init__(self, stats: ClientStats, on_closed: Callable[[], None]) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.paho: PahoClient | None = None
        # The watched socket; None when there is no usable connection.
        self.sock: Any = None
        # Set by the owner while it closes: sockets opened meanwhile are not watched.
        self.closing = False
        self._stats = stats
        self._on_closed = on_closed
        self._loop_thread: int | None = None
        self._misc_handle: asyncio.TimerHandle | None = None
        # Reading resumes here when bytes wait that the selector does not report.
        self._continuation: asyncio.Handle | None = None
        # When bytes last arrived, and when the ping for the silence since was due.
        self._last_in = 0.0
        self._pinged_at = -math.inf

    def attach(self, loop: asyncio.AbstractEventLoop, paho: PahoClient) -> None:
        """Take over the socket callbacks of `paho` (call on the loop thread)."""
        self.loop = loop
        self._loop_thread = threading.get_ident()
        self.paho = paho
        paho.on_socket_open = self._threadsafe(self._on_socket_open)
        paho.on_socket_close = self._threadsafe(self._on_socket_close)
        paho.on_socket_register_write = self._threadsafe(self._on_register_write)
        paho.on_socket_unregister_write = self._threadsafe(self._on_unregister_write)

    def drop(self) -> None:
        """Close paho's socket (if any) without DISCONNECT and stop watching it."""
        if self.paho is not None:
            self.paho.close_socket()  # on_socket_close does the unregistering
        self._unwatch()

    def _threadsafe(self, func: SocketCallback) -> SocketCallback:
        """Run a socket callback on the loop even when paho calls it from the executor."""

        def wrapper(client: Client, userdata: Any, sock: Any) -> None:
            assert self.loop is not None
            if threading.get_ident() == self._loop_thread:
                func(client, userdata, sock)
            else:
                self.loop.call_soon_threadsafe(func, client, userdata, sock)

        return wrapper

    def _on_socket_open(self, client: Client, userdata: Any, sock: Any) -> None:
        assert self.loop is not None
        current = client.socket()
        if current is None or current is not sock or self.closing:
            return
        self.sock = current
        self._last_in, self._pinged_at = time.monotonic(), -math.inf
        self.loop.add_reader(current, self._on_readable)
        self._schedule_misc(self._last_in, client.keepalive)

    def _on_socket_close(self, client: Client, userdata: Any, sock: Any) -> None:
        if sock is self.sock:
            self._unwatch()
        self._on_closed()

    def _unwatch(self) -> None:
        sock, self.sock = self.sock, None
        if self._continuation is not None:
            self._continuation.cancel()
            self._continuation = None
        if self._misc_handle is not None:
            self._misc_handle.cancel()
            self._misc_handle = None
        if sock is not None and self.loop is not None:
            self.loop.remove_reader(sock)
            self.loop.remove_writer(sock)

    def _on_register_write(self, client: Client, userdata: Any, sock: Any) -> None:
        assert self.loop is not None
        current = client.socket()
        if current is not None and current is sock and not self.closing:
            self.loop.add_writer(current, self._on_writable)

    def _on_unregister_write(self, client: Client, userdata: Any, sock: Any) -> None:
        assert self.loop is not None
        self.loop.remove_writer(sock)

    def _on_readable(self) -> None:
        if self._continuation is None:
            # Otherwise the continuation reads what is here, from where paho stopped.
            self._drain()

    def _continue_reading(self) -> None:
        self._continuation = None
        self._drain()

    def _drain(self) -> None:
        paho, sock = self.paho, self.sock
        if paho is None or sock is None:
            return
        try:
            self._read(paho, sock)
        finally:
            # After the reads: paho's own time of the last packet is never later.
            self._last_in = time.monotonic()

    def _read(self, paho: PahoClient, sock: Any) -> None:
        # paho reads one packet per loop_read() call for QoS 0 traffic: drain
        # what is already here instead of paying a selector wake-up per message.
        # A call that delivered no PUBLISH most likely found the socket empty;
        # stop there (level-triggered: anything left in the kernel wakes us again).
        # On a plain TCP socket a short recv() means the kernel was empty: stop
        # there instead of paying a failing recv() per wake-up (what arrives
        # meanwhile wakes us). TLS and websocket reads are short by nature.
        plain = type(sock) is socket.socket
        stats = self._stats
        deadline = time.monotonic() + MAX_READ_SECONDS_PER_WAKEUP
        for _ in range(MAX_READS_PER_WAKEUP):
            received = stats.messages_received
            if paho.loop_read() is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
            if self.sock is not sock:
                return
            if time.monotonic() >= deadline:
                break
            if paho.buffered():
                continue
            if (plain and paho.kernel_drained()) or stats.messages_received == received:
                return
        if paho.buffered():
            # Bytes already read from the kernel wake no selector: come back for them,
            # once (the selector's callback meanwhile leaves them to the continuation).
            assert self.loop is not None
            self._continuation = self.loop.call_soon(self._continue_reading)

    def _on_writable(self) -> None:
        assert self.paho is not None
        self.paho.loop_write()

    def _misc(self) -> None:
        self._misc_handle = None
        paho = self.paho
        if paho is None or self.sock is None:
            return
        now = time.monotonic()
        keepalive = paho.keepalive
        if keepalive:
            if self._pinged_at > self._last_in:
                if now - self._pinged_at >= PING_ANSWER_KEEPALIVES * keepalive:
                    self._keepalive_expired(paho)
                    return
            elif now - self._last_in >= keepalive:
                # loop_misc() pings now (paho: a keep-alive since the last packet), or
                # one is already out, or paho gives up on a CONNACK that never came.
                self._pinged_at = now
        if paho.loop_misc() is MQTTErrorCode.MQTT_ERR_SUCCESS and self.sock is not None:
            self._schedule_misc(now, keepalive)

    def _schedule_misc(self, now: float, keepalive: int) -> None:
        """Run `_misc` in a second, or sooner when a ping or its answer is due."""
        assert self.loop is not None
        delay = MISC_INTERVAL
        if keepalive:
            if self._pinged_at > self._last_in:
                due = self._pinged_at + PING_ANSWER_KEEPALIVES * keepalive
            else:
                due = self._last_in + keepalive + _PING_MARGIN
            delay = max(0.0, min(delay, due - now))
        self._misc_handle = self.loop.call_later(delay, self._misc)

    def _keepalive_expired(self, paho: PahoClient) -> None:
        """Give up on an unanswered ping the way paho's own keep-alive check does.

        The socket is closed (no DISCONNECT: nothing gets through) and the loss is
        reported through paho's on_disconnect with its "Keep alive timeout" reason.
        """
        self.drop()
        if (on_disconnect := paho.on_disconnect) is not None:
            # build_paho() always asks for paho's version 2 callbacks.
            cast(CallbackOnDisconnect_v2, on_disconnect)(
                paho,
                paho.user_data_get(),
                DisconnectFlags(is_disconnect_packet_from_server=False),
                ReasonCode(PacketTypes.DISCONNECT, "Keep alive timeout"),
                Properties(PacketTypes.DISCONNECT),  # type: ignore[no-untyped-call]
            )
