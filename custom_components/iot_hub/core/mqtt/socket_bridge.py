"""Drive paho's socket from the asyncio event loop (no network thread).

The socket is watched with ``add_reader``/``add_writer`` while paho wants to
write, and keep-alive runs from a one-second timer. paho announces sockets from
the executor too (connect() runs there), so those callbacks hop to the loop.
"""

import asyncio
from collections.abc import Callable
import socket
import threading
from typing import Any

from paho.mqtt.client import Client
from paho.mqtt.enums import MQTTErrorCode

from ._paho import PahoClient
from .stats import ClientStats

# Packets read per readiness callback before yielding back to the loop.
MAX_READS_PER_WAKEUP = 100
MISC_INTERVAL = 1.0

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
        self.loop.add_reader(current, self._on_readable)
        self._misc_handle = self.loop.call_later(MISC_INTERVAL, self._misc)

    def _on_socket_close(self, client: Client, userdata: Any, sock: Any) -> None:
        if sock is self.sock:
            self._unwatch()
        self._on_closed()

    def _unwatch(self) -> None:
        sock, self.sock = self.sock, None
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
        paho, sock = self.paho, self.sock
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
        stats = self._stats
        for _ in range(MAX_READS_PER_WAKEUP):
            received = stats.messages_received
            if paho.loop_read() is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
            if self.sock is not sock:
                return
            if paho.buffered():
                continue
            if (plain and paho.kernel_drained()) or stats.messages_received == received:
                return
        if paho.buffered():
            # Bytes already read from the kernel wake no selector: come back for them.
            assert self.loop is not None
            self.loop.call_soon(self._on_readable)

    def _on_writable(self) -> None:
        assert self.paho is not None
        self.paho.loop_write()

    def _misc(self) -> None:
        self._misc_handle = None
        paho = self.paho
        if paho is None or self.sock is None:
            return
        if paho.loop_misc() is MQTTErrorCode.MQTT_ERR_SUCCESS and self.sock is not None:
            assert self.loop is not None
            self._misc_handle = self.loop.call_later(MISC_INTERVAL, self._misc)
