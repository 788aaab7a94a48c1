"""paho's Client with bounded handshakes, buffered reads and a cycle-free dispatch.

Every use of paho's private API lives here. paho-mqtt is pinned to 2.1.0 (the
version Home Assistant pins); each override below names the tests that break
when a paho upgrade changes what it relies on (all in tests/core/mqtt/):

- ``_create_socket``: test_client_connect.py::test_silent_server_times_out_in_the_handshake
  (handshake bounded by connect_timeout) and
  test_client_reads.py::test_bytes_left_from_a_broken_connection_are_dropped
  (no bytes of an earlier connection replayed).
- ``_sock_recv``: test_client_reads.py::test_a_burst_read_at_once_is_delivered_whole,
  ::test_a_packet_split_across_reads and ::test_bytes_left_from_a_broken_connection_are_dropped.
- ``_handle_on_message``: test_client_reads.py::test_delivering_messages_leaves_no_cyclic_garbage.
- ``_reset_sockets`` (called by ``close_socket``): test_client_reconnect.py's close tests
  (test_close_waits_for_a_reconnect_stuck_in_the_handshake, test_close_during_the_first_connect).
"""

from typing import Any

from paho.mqtt.client import Client, MQTTMessage

# One recv() takes this much; paho's 1-byte header reads are then served from it.
READ_CHUNK = 64 * 1024


def _buffered(sock: Any) -> bool:
    """Whether bytes wait inside the socket object (TLS record, websocket frame).

    The fd's readiness does not report bytes OpenSSL has already decrypted.
    """
    pending = getattr(sock, "pending", None)
    return bool(pending is not None and pending() > 0)


class PahoClient(Client):
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

    def close_socket(self) -> None:
        """Close the socket without sending DISCONNECT (on_socket_close still runs)."""
        self._reset_sockets()
