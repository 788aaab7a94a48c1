"""Encode the few MQTT 3.1.1 / 5 packets the load generator needs (no dependencies)."""

import socket
import struct

PROTOCOL_LEVELS = {"3.1.1": 4, "5": 5}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + _varint(len(body)) + body


def connect(
    client_id: str, username: str | None, password: str | None, protocol: str, keepalive: int = 0
) -> bytes:
    """A CONNECT with clean session / clean start."""
    level = PROTOCOL_LEVELS[protocol]
    flags = 0x02
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = _string("MQTT") + bytes([level, flags]) + struct.pack("!H", keepalive)
    if level == 5:
        body += b"\x00"  # no CONNECT properties
    body += _string(client_id)
    if username is not None:
        body += _string(username)
    if password is not None:
        body += _string(password)
    return _packet(0x10, body)


def publish_header(topic: str, protocol: str, payload_len: int, retain: bool = False) -> bytes:
    """Everything of a QoS 0 PUBLISH that precedes the payload."""
    variable = _string(topic)
    if PROTOCOL_LEVELS[protocol] == 5:
        variable += b"\x00"  # no PUBLISH properties
    return bytes([0x30 | (0x01 if retain else 0)]) + _varint(len(variable) + payload_len) + variable


def publish(topic: str, payload: bytes, protocol: str, retain: bool = False) -> bytes:
    """A QoS 0 PUBLISH."""
    return publish_header(topic, protocol, len(payload), retain) + payload


PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


def read_packet(sock: socket.socket) -> tuple[int, bytes]:
    """Read one packet (blocking): (packet type, body)."""
    first = _read_exact(sock, 1)[0]
    multiplier, length = 1, 0
    while True:
        byte = _read_exact(sock, 1)[0]
        length += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            break
        multiplier *= 128
    return first >> 4, _read_exact(sock, length) if length else b""


def _read_exact(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return bytes(data)


def open_session(
    host: str,
    port: int,
    *,
    client_id: str,
    username: str | None,
    password: str | None,
    protocol: str,
    timeout: float = 10.0,
) -> socket.socket:
    """Connect, send CONNECT, check the CONNACK; return the blocking socket."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect(client_id, username, password, protocol))
    kind, body = read_packet(sock)
    if kind != 2 or len(body) < 2 or body[1] != 0:
        sock.close()
        raise ConnectionError(f"CONNACK refused: type {kind}, body {body.hex()}")
    return sock


def ping(sock: socket.socket) -> None:
    """PINGREQ and wait for PINGRESP: the broker has read everything sent before."""
    sock.sendall(PINGREQ)
    while True:
        kind, _ = read_packet(sock)
        if kind == 13:
            return
