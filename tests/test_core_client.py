"""MqttClient against a real Mosquitto broker (and a few hand-rolled fake servers).

Every test that opens a socket requests ``socket_enabled`` (the ``mosquitto``
fixture already does). Waiting is done on queues fed by the client's callbacks
(or by a fake server), never by sleeping; the exceptions are proving that
something does *not* happen, and short polls where nothing can be awaited (the
broker's log, a client built without callbacks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass, replace
import gc
import itertools
from pathlib import Path
import socket
import stat
import struct
import subprocess
from typing import Any, NamedTuple

import pytest

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.client import MqttClient
from custom_components.iot_hub.core.mqtt.errors import (
    ConnectFailure,
    MqttConnectError,
    MqttError,
    MqttNotConnectedError,
    MqttTimeoutError,
)
from custom_components.iot_hub.core.mqtt.settings import (
    BrokerSettings,
    Protocol,
    TlsMode,
    TlsSettings,
    Transport,
)
from custom_components.iot_hub.core.mqtt.tls import CLIENT_CERT_FILE, CLIENT_KEY_FILE

from .broker import Mosquitto

TIMEOUT = 10.0
PROTOCOLS = pytest.mark.parametrize("protocol", [Protocol.V311, Protocol.V5], ids=["v311", "v5"])
_ids = itertools.count()


class Message(NamedTuple):
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass
class Recorder:
    """What the client reported through its callbacks, as awaitable queues."""

    messages: asyncio.Queue[Message]
    changes: asyncio.Queue[bool]
    auth_failures: asyncio.Queue[MqttConnectError]

    def on_message(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.messages.put_nowait(Message(topic, payload, qos, retain))

    async def message(self) -> Message:
        return await _get(self.messages)

    async def change(self) -> bool:
        return await _get(self.changes)

    async def auth_failure(self) -> MqttConnectError:
        return await _get(self.auth_failures)


async def _get[T](queue: asyncio.Queue[T]) -> T:
    async with asyncio.timeout(TIMEOUT):
        return await queue.get()


type MakeClient = Callable[..., tuple[MqttClient, Recorder]]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Create clients that record their callbacks; all are closed after the test."""
    clients: list[MqttClient] = []

    def factory(
        settings: BrokerSettings,
        *,
        on_message: Callable[[str, bytes, int, bool], None] | None = None,
        **kwargs: Any,
    ) -> tuple[MqttClient, Recorder]:
        recorder = Recorder(asyncio.Queue(), asyncio.Queue(), asyncio.Queue())
        client = MqttClient(
            settings,
            on_message=on_message or recorder.on_message,
            on_connection_change=recorder.changes.put_nowait,
            on_auth_failed=recorder.auth_failures.put_nowait,
            **kwargs,
        )
        clients.append(client)
        return client, recorder

    try:
        yield factory
    finally:
        for client in clients:
            await client.close()


def settings_for(broker: Mosquitto, **overrides: Any) -> BrokerSettings:
    """Settings for the broker's password listener, with overrides."""
    base = BrokerSettings(
        host=broker.host,
        port=broker.port_password,
        client_id=f"core-test-{next(_ids)}",
        username=broker.username,
        password=broker.password,
    )
    return replace(base, **overrides)


def tls_settings(broker: Mosquitto, **overrides: Any) -> TlsSettings:
    return replace(TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem=broker.pki.ca_cert_pem), **overrides)


async def connect_failure(client: MqttClient) -> MqttConnectError:
    with pytest.raises(MqttConnectError) as info:
        await client.connect()
    assert not client.connected
    return info.value


async def assert_round_trip(client: MqttClient, recorder: Recorder, topic: str) -> None:
    """Our own publish comes back through our own subscription."""
    await client.subscribe(topic, 1)
    await client.publish(topic, b"round trip", qos=1)
    assert await recorder.message() == Message(topic, b"round trip", 1, False)


# ------------------------------------------------------------ happy paths


@PROTOCOLS
async def test_subscribe_receive_and_round_trip(
    mosquitto: Mosquitto, make_client: MakeClient, protocol: Protocol
) -> None:
    client, recorder = make_client(settings_for(mosquitto, protocol=protocol))
    await mosquitto.publish("sensors/retained", "kept", retain=True)

    await client.connect()
    assert client.connected
    assert await recorder.change() is True

    await client.subscribe("sensors/#", 2)
    assert client.subscriptions == {"sensors/#": 2}
    # The retained message is delivered on subscribe, flagged as retained.
    assert await recorder.message() == Message("sensors/retained", b"kept", 1, True)

    # The seed's own payload, published by another client.
    await mosquitto.publish("sensors/dht11", '{"temperature":25,"humidity":60}')
    assert await recorder.message() == Message(
        "sensors/dht11", b'{"temperature":25,"humidity":60}', 1, False
    )
    # Arbitrary bytes (NUL, invalid UTF-8) survive verbatim.
    await mosquitto.publish("sensors/raw", b"\x00\xff\xfe binary")
    assert (await recorder.message()).payload == b"\x00\xff\xfe binary"

    # Round trips through the broker at each QoS (str payloads are encoded).
    for qos in (0, 1, 2):
        await client.publish("sensors/echo", f"qos {qos}", qos=qos)
        assert await recorder.message() == Message(
            "sensors/echo", f"qos {qos}".encode(), qos, False
        )

    assert client.stats.connects == 1
    assert client.stats.messages_published == 3
    assert client.stats.messages_received == 6
    assert client.stats.connection_losses == 0


async def test_unsubscribe_stops_delivery(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    client, recorder = make_client(settings_for(mosquitto))
    await client.connect()
    await client.subscribe("a/topic", 1)
    await client.subscribe("b/topic", 1)

    await client.unsubscribe("a/topic")
    await client.unsubscribe("never/subscribed")  # no-op
    assert client.subscriptions == {"b/topic": 1}

    # The broker handles one connection's packets in order: were "a/topic" still
    # subscribed, its message would arrive before the one on "b/topic".
    await client.publish("a/topic", b"gone", qos=1)
    await client.publish("b/topic", b"here", qos=1)
    assert await recorder.message() == Message("b/topic", b"here", 1, False)
    assert recorder.messages.empty()


async def test_websockets(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    settings = settings_for(mosquitto, port=mosquitto.port_ws, transport=Transport.WEBSOCKETS)
    client, recorder = make_client(settings)
    await client.connect()
    assert client.connected
    await assert_round_trip(client, recorder, "ws/echo")
    await mosquitto.publish("ws/echo", "from outside")
    assert (await recorder.message()).payload == b"from outside"


async def test_handler_error_does_not_break_the_connection(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    def handler(topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if payload == b"boom":
            raise RuntimeError("consumer bug")
        received.put_nowait(payload)

    client, _ = make_client(settings_for(mosquitto), on_message=handler)
    await client.connect()
    await client.subscribe("h/#", 1)
    await mosquitto.publish("h/1", "boom")
    await mosquitto.publish("h/2", "fine")
    assert await _get(received) == b"fine"
    assert client.connected
    assert client.stats.messages_received == 2


async def test_keepalive_pings_keep_an_idle_connection_up(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    settings = settings_for(mosquitto, keepalive=1)
    client, recorder = make_client(settings)
    await client.connect()
    assert await recorder.change() is True
    # Idle: the client pings every keepalive second. paho sends another PINGREQ
    # only once the previous PINGRESP arrived, so two of them prove the round trip.
    pingreq = f"Received PINGREQ from {settings.client_id}"
    async with asyncio.timeout(TIMEOUT):
        while mosquitto.log().count(pingreq) < 2:  # the broker log has no callback: poll
            await asyncio.sleep(0.02)
    assert client.connected
    assert recorder.changes.empty()
    await assert_round_trip(client, recorder, "keepalive/echo")


# ------------------------------------------------------------------- TLS


async def test_tls_with_custom_ca(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    settings = settings_for(mosquitto, port=mosquitto.port_tls, tls=tls_settings(mosquitto))
    client, recorder = make_client(settings)
    await client.connect()
    assert client.connected
    await assert_round_trip(client, recorder, "tls/echo")


async def test_tls_with_wrong_ca_is_an_invalid_certificate(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    tls = tls_settings(mosquitto, ca_pem=mosquitto.pki.wrong_ca_cert_pem)
    client, _ = make_client(settings_for(mosquitto, port=mosquitto.port_tls, tls=tls))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_CERTIFICATE


async def test_tls_with_wrong_ca_connects_without_verification(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    tls = tls_settings(mosquitto, ca_pem=mosquitto.pki.wrong_ca_cert_pem, verify=False)
    client, recorder = make_client(settings_for(mosquitto, port=mosquitto.port_tls, tls=tls))
    await client.connect()
    assert client.connected
    await assert_round_trip(client, recorder, "insecure/echo")


async def test_mutual_tls_with_client_certificate(
    mosquitto: Mosquitto, make_client: MakeClient, tmp_path: Path
) -> None:
    pki = mosquitto.pki
    tls = tls_settings(
        mosquitto, client_cert_pem=pki.client_cert_pem, client_key_pem=pki.client_key_pem
    )
    tls_dir = tmp_path / "tls"
    settings = settings_for(
        mosquitto, port=mosquitto.port_mtls, tls=tls, tls_dir=tls_dir, username=None, password=None
    )
    client, recorder = make_client(settings)
    await client.connect()
    assert client.connected

    key = tls_dir / CLIENT_KEY_FILE
    assert key.read_text() == pki.client_key_pem
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tls_dir / CLIENT_CERT_FILE).read_text() == pki.client_cert_pem
    await assert_round_trip(client, recorder, "mtls/echo")


async def test_mutual_tls_without_client_certificate_is_a_tls_error(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    settings = settings_for(
        mosquitto, port=mosquitto.port_mtls, tls=tls_settings(mosquitto), username=None
    )
    client, _ = make_client(settings)
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.TLS_ERROR


@pytest.mark.parametrize(
    ("tls", "reason"),
    [
        (
            TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem="not a certificate"),
            ConnectFailure.INVALID_CA,
        ),
        (TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem=None), ConnectFailure.INVALID_CA),
        (
            TlsSettings(
                mode=TlsMode.SYSTEM_CA, client_cert_pem="garbage", client_key_pem="garbage"
            ),
            ConnectFailure.INVALID_CLIENT_CERT,
        ),
        (
            TlsSettings(mode=TlsMode.SYSTEM_CA, client_cert_pem="cert without key"),
            ConnectFailure.INVALID_CLIENT_CERT,
        ),
    ],
    ids=["garbage-ca", "missing-ca", "garbage-client-cert", "cert-without-key"],
)
async def test_unusable_tls_material(
    mosquitto: Mosquitto,
    make_client: MakeClient,
    tmp_path: Path,
    tls: TlsSettings,
    reason: ConnectFailure,
) -> None:
    settings = settings_for(mosquitto, port=mosquitto.port_tls, tls=tls, tls_dir=tmp_path)
    client, recorder = make_client(settings)
    err = await connect_failure(client)
    assert err.reason is reason
    assert recorder.changes.empty()


# ------------------------------------------------------- connect failures


@PROTOCOLS
async def test_wrong_password_is_invalid_auth(
    mosquitto: Mosquitto, make_client: MakeClient, protocol: Protocol
) -> None:
    client, recorder = make_client(settings_for(mosquitto, password="wrong", protocol=protocol))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_AUTH
    assert err.is_auth
    assert recorder.changes.empty()


async def test_anonymous_is_invalid_auth(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    client, _ = make_client(settings_for(mosquitto, username=None, password=None))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_AUTH


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_closed_port_cannot_connect(socket_enabled: None, make_client: MakeClient) -> None:
    client, _ = make_client(BrokerSettings(host="127.0.0.1", port=_closed_port(), client_id="x"))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.CANNOT_CONNECT
    assert not err.is_auth


type Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def fake_server(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 running ``handler`` per connection; yields its port."""
    connections: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            connections.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept, read whatever comes, never answer."""
    while await reader.read(4096):
        pass


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and close at once."""


async def test_silent_server_times_out(socket_enabled: None, make_client: MakeClient) -> None:
    async with fake_server(silent) as port:
        settings = BrokerSettings(host="127.0.0.1", port=port, client_id="x")
        client, _ = make_client(settings, connect_timeout=0.5)
        err = await connect_failure(client)
        assert err.reason is ConnectFailure.TIMEOUT


@pytest.mark.parametrize(
    "overrides",
    [{"tls": TlsSettings(mode=TlsMode.SYSTEM_CA)}, {"transport": Transport.WEBSOCKETS}],
    ids=["tls", "websockets"],
)
async def test_silent_server_times_out_in_the_handshake(
    socket_enabled: None, make_client: MakeClient, overrides: dict[str, Any]
) -> None:
    """The TLS/websocket handshake is bounded by connect_timeout, not by keepalive."""
    async with fake_server(silent) as port:
        settings = BrokerSettings(
            host="127.0.0.1", port=port, client_id="x", keepalive=10, **overrides
        )
        client, _ = make_client(settings, connect_timeout=0.5)
        async with asyncio.timeout(5):
            err = await connect_failure(client)
        assert err.reason is ConnectFailure.TIMEOUT


async def test_hang_up_before_connack_cannot_connect(
    socket_enabled: None, make_client: MakeClient
) -> None:
    async with fake_server(hang_up) as port:
        client, _ = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        err = await connect_failure(client)
        assert err.reason is ConnectFailure.CANNOT_CONNECT


async def test_websockets_to_a_plain_mqtt_listener_cannot_connect(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    client, _ = make_client(settings_for(mosquitto, transport=Transport.WEBSOCKETS))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.CANNOT_CONNECT


def connack(return_code: int) -> Handler:
    """A fake MQTT 3.1.1 broker answering CONNECT with ``return_code``, then silent."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(bytes([0x20, 0x02, 0x00, return_code]))
        await writer.drain()
        await silent(reader, writer)

    return handler


@pytest.mark.parametrize(
    ("return_code", "reason"),
    [
        (2, ConnectFailure.CANNOT_CONNECT),  # identifier rejected
        (3, ConnectFailure.CANNOT_CONNECT),  # server unavailable
        (4, ConnectFailure.INVALID_AUTH),  # bad user name or password
        (5, ConnectFailure.INVALID_AUTH),  # not authorized
    ],
)
async def test_connack_refusals(
    socket_enabled: None, make_client: MakeClient, return_code: int, reason: ConnectFailure
) -> None:
    async with fake_server(connack(return_code)) as port:
        client, _ = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        err = await connect_failure(client)
        assert err.reason is reason


async def test_unacknowledged_requests_time_out_and_close_fails_pending(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """A broker that accepts the connection but never acknowledges anything."""
    async with fake_server(connack(0)) as port:
        settings = BrokerSettings(host="127.0.0.1", port=port, client_id="x")
        client, recorder = make_client(settings, ack_timeout=0.2)
        await client.connect()
        assert await recorder.change() is True
        with pytest.raises(MqttTimeoutError):
            await client.subscribe("no/suback", 1)
        with pytest.raises(MqttTimeoutError):
            await client.publish("no/puback", b"x", qos=1)

        # A publish still waiting for its PUBACK fails once the client is closed.
        client_with_patience, _ = make_client(replace(settings, client_id="y"), ack_timeout=TIMEOUT)
        await client_with_patience.connect()
        waiting = asyncio.create_task(client_with_patience.publish("no/puback", b"x", qos=1))
        await asyncio.sleep(0)  # let the publish reach its wait
        await client_with_patience.close()
        with pytest.raises(MqttNotConnectedError):
            await waiting


async def test_undecodable_topic_is_counted_and_skipped(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """A topic that is not UTF-8 (mosquitto_pub cannot send one, a fake broker can)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK)
        writer.write(publish_packet(b"bad/\xff\xfe", b"lost"))
        writer.write(publish_packet(b"good/topic", b"kept"))
        await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        client, recorder = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        await client.connect()
        assert await recorder.message() == Message("good/topic", b"kept", 0, False)
        assert client.stats.undecodable_topics == 1
        assert client.stats.messages_received == 2
        assert client.connected


def publish_packet(topic: bytes, payload: bytes) -> bytes:
    """A QoS 0 PUBLISH (MQTT 3.1.1 and 5 alike for a body under 128 bytes)."""
    body = len(topic).to_bytes(2, "big") + topic + payload
    assert len(body) < 128
    return bytes([0x30, len(body)]) + body


CONNACK = bytes([0x20, 0x02, 0x00, 0x00])


async def test_a_burst_read_at_once_is_delivered_whole(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """Far more packets than one wake-up handles, all in one segment, then silence.

    The client takes them from the kernel in one read: the ones past the
    per-wake-up limit wake no selector and must still be delivered, in order.
    """
    count = 10_000  # ~130 KB: more than one 64 KiB read, more than one wake-up's share

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        burst = b"".join(publish_packet(b"burst", str(n).encode()) for n in range(count))
        writer.write(CONNACK + burst)
        await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        client, recorder = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        await client.connect()
        for n in range(count):
            assert await recorder.message() == Message("burst", str(n).encode(), 0, False)
        assert client.stats.messages_received == count


async def test_delivering_messages_leaves_no_cyclic_garbage(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """Per message, nothing is left for the garbage collector.

    paho 2.1's own dispatch builds a reference cycle per message (its topic
    matcher's recursive closure): in Home Assistant, where a full collection
    walks millions of objects, that made collections several times as frequent.
    """
    count = 500
    go = asyncio.Queue[None]()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK)
        await writer.drain()
        await go.get()
        writer.write(b"".join(publish_packet(b"a/b/c", b"%d" % n) for n in range(count)))
        await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        client, recorder = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        await client.connect()
        gc.collect()
        gc.disable()
        try:
            go.put_nowait(None)
            for n in range(count):
                assert await recorder.message() == Message("a/b/c", b"%d" % n, 0, False)
            # Not zero: the test's own queues and streams may leave a few.
            assert gc.collect() < count / 10
        finally:
            gc.enable()


async def test_a_packet_split_across_reads(socket_enabled: None, make_client: MakeClient) -> None:
    first = publish_packet(b"split", b"first")
    second = publish_packet(b"split", b"second half arrives later")
    halves = asyncio.Queue[None]()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        # One segment: a whole packet and the start of the next (type byte, length, part).
        writer.write(CONNACK + first + second[:9])
        await writer.drain()
        await halves.get()
        writer.write(second[9:])
        await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        client, recorder = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        await client.connect()
        assert await recorder.message() == Message("split", b"first", 0, False)
        assert recorder.messages.empty()
        halves.put_nowait(None)
        assert await recorder.message() == Message("split", b"second half arrives later", 0, False)


async def test_bytes_left_from_a_broken_connection_are_dropped(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """A protocol error ends the connection with bytes still unread: never replay them."""
    connections = itertools.count()
    connected = asyncio.Queue[None]()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK)
        await writer.drain()
        if next(connections) == 0:
            await connected.get()
            # A remaining length of five bytes is a protocol error; a packet follows.
            broken = bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
            writer.write(broken + publish_packet(b"t", b"stale"))
        else:
            writer.write(publish_packet(b"t", b"fresh"))
        await writer.drain()
        await silent(reader, writer)

    backoff, _ = observed_backoff()
    async with fake_server(handler) as port:
        settings = BrokerSettings(host="127.0.0.1", port=port, client_id="x")
        client, recorder = make_client(settings, backoff=backoff)
        await client.connect()
        assert await recorder.change() is True
        connected.put_nowait(None)
        assert await recorder.change() is False
        assert await recorder.change() is True
        assert await recorder.message() == Message("t", b"fresh", 0, False)
        assert client.stats.connection_losses == 1


async def test_a_connection_broken_with_its_connack_is_no_connection(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """CONNACK and a protocol error in one segment: connect() fails, nothing "connected"."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK + bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
        await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        client, recorder = make_client(BrokerSettings(host="127.0.0.1", port=port, client_id="x"))
        err = await connect_failure(client)
        assert err.reason is ConnectFailure.CANNOT_CONNECT
        assert recorder.changes.empty()


# ------------------------------------------------------------- lifecycle


async def test_publish_while_disconnected_raises(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    client, _ = make_client(settings_for(mosquitto))
    with pytest.raises(MqttNotConnectedError):
        await client.publish("t", b"before connect")
    await client.connect()
    await client.close()
    with pytest.raises(MqttNotConnectedError):
        await client.publish("t", b"after close")


async def test_close_is_idempotent(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    client, recorder = make_client(settings_for(mosquitto))
    await client.close()  # never connected
    await client.connect()
    assert await recorder.change() is True
    await client.close()
    assert not client.connected
    await client.close()
    assert not client.connected
    # A deliberate close is no connection loss and reports nothing.
    assert client.stats.connection_losses == 0
    assert recorder.changes.empty()


async def test_subscribe_and_unsubscribe_while_disconnected_only_remember(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    client, _ = make_client(settings_for(mosquitto))
    await client.subscribe("later/#", 0)
    assert client.subscriptions == {"later/#": 0}
    await client.unsubscribe("later/#")
    assert client.subscriptions == {}


# ------------------------------------------------------------- reconnect


@PROTOCOLS
async def test_reconnects_and_restores_subscriptions(
    mosquitto: Mosquitto, make_client: MakeClient, protocol: Protocol
) -> None:
    settings = settings_for(mosquitto, protocol=protocol)
    backoff, delays = observed_backoff()
    client, recorder = make_client(settings, backoff=backoff)
    await client.connect()
    assert await recorder.change() is True
    await client.subscribe("re/#", 1)

    mosquitto.kill()
    assert await recorder.change() is False
    assert not client.connected
    with pytest.raises(MqttNotConnectedError):
        await client.publish("re/x", b"while down")
    # A second delay is drawn only after the first attempt failed.
    await _get(delays)
    await _get(delays)
    assert client.stats.failed_attempts >= 1
    assert (client.stats.last_error or "").startswith(ConnectFailure.CANNOT_CONNECT)

    mosquitto.restart()
    assert await recorder.change() is True
    assert client.connected
    # "Back" is reported once the subscriptions are restored: a message
    # published by someone else right now must arrive.
    await mosquitto.publish("re/other", "after restart")
    assert await recorder.message() == Message("re/other", b"after restart", 1, False)
    await client.publish("re/self", b"back", qos=1)
    assert await recorder.message() == Message("re/self", b"back", 1, False)

    assert client.stats.connection_losses == 1
    assert client.stats.connects == 2
    assert recorder.changes.empty()


async def test_auth_failure_on_reconnect_stops_reconnecting(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    client, recorder = make_client(settings_for(mosquitto), backoff=Backoff(base=0.05, cap=0.2))
    await client.connect()
    assert await recorder.change() is True

    mosquitto.kill()
    assert await recorder.change() is False
    set_password(mosquitto, "other")
    mosquitto.restart()

    err = await recorder.auth_failure()
    assert err.reason is ConnectFailure.INVALID_AUTH
    failed = client.stats.failed_attempts
    assert failed >= 1
    assert client.stats.last_error == str(err)

    # Give the client its password back: a client still retrying would now get in.
    set_password(mosquitto, mosquitto.password)
    mosquitto.kill()
    mosquitto.restart()
    await asyncio.sleep(0.6)  # three times the backoff cap: absence cannot be awaited
    assert not client.connected
    assert recorder.changes.empty()
    assert recorder.auth_failures.empty()
    assert client.stats.failed_attempts == failed


class GatedProxy:
    """Forwards each TCP connection to ``target`` once ``gate`` is open."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.gate = asyncio.Event()
        self.gate.set()
        self.accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
        self.finished: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted.put_nowait(writer)
        await self.gate.wait()
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        await asyncio.gather(
            pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
        )
        self.finished.put_nowait(None)


async def test_close_waits_for_a_reconnect_stuck_in_the_handshake(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    """close() during a reconnect's TLS handshake must not leave that socket open."""
    proxy = GatedProxy(mosquitto.port_tls)
    async with fake_server(proxy) as port:
        settings = settings_for(mosquitto, port=port, tls=tls_settings(mosquitto))
        client, recorder = make_client(
            settings, backoff=Backoff(base=0.05, cap=0.2), connect_timeout=TIMEOUT
        )
        await client.connect()
        assert await recorder.change() is True
        first = await _get(proxy.accepted)

        proxy.gate.clear()
        first.transport.abort()  # the network drops the connection
        assert await recorder.change() is False
        await _get(proxy.finished)
        await _get(proxy.accepted)  # the reconnect's TLS handshake now waits at the gate

        closing = asyncio.create_task(client.close())
        await asyncio.sleep(0)  # close() starts
        proxy.gate.set()  # the handshake completes while close() runs
        await closing
        # The socket of that late connection is closed as well: the proxy sees it end.
        await _get(proxy.finished)
        assert not client.connected
        assert recorder.changes.empty()


def observed_backoff() -> tuple[Backoff, asyncio.Queue[None]]:
    """A fast backoff whose queue gets an item whenever a reconnect delay is drawn."""
    delays: asyncio.Queue[None] = asyncio.Queue()

    def rand() -> float:
        delays.put_nowait(None)
        return 0.0

    return Backoff(base=0.05, cap=0.2, rand=rand), delays


def set_password(broker: Mosquitto, password: str) -> None:
    subprocess.run(
        ["mosquitto_passwd", "-b", str(broker.password_file), broker.username, password],
        check=True,
        capture_output=True,
    )


async def test_close_during_the_first_connect(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    """close() while connect() is in its TLS handshake: connect() fails, nothing stays open."""
    proxy = GatedProxy(mosquitto.port_tls)
    proxy.gate.clear()
    async with fake_server(proxy) as port:
        settings = settings_for(mosquitto, port=port, tls=tls_settings(mosquitto))
        client, recorder = make_client(settings, connect_timeout=TIMEOUT)
        connecting = asyncio.create_task(client.connect())
        await _get(proxy.accepted)

        closing = asyncio.create_task(client.close())
        await asyncio.sleep(0)  # close() starts
        proxy.gate.set()
        await closing
        with pytest.raises(MqttNotConnectedError):
            await connecting
        await _get(proxy.finished)
        assert not client.connected
        assert recorder.changes.empty()


# --------------------------------------------- a scripted MQTT 3.1.1 broker


class FakeBroker:
    """Answers CONNECT, PINGREQ and SUBSCRIBE; how it answers SUBSCRIBE is set per connection.

    Policies: "grant" (the requested QoS), "refuse" (0x80 for every filter) and
    "hang_up" (close the connection instead of answering).
    """

    def __init__(self, *policies: str) -> None:
        self.policies = list(policies)
        self.accepted = 0
        self.connections: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        policy = self.policies[self.accepted] if self.accepted < len(self.policies) else "grant"
        self.accepted += 1
        self.connections.put_nowait(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                kind, body = await self._packet(reader)
                if kind == 0x10:  # CONNECT
                    writer.write(bytes([0x20, 0x02, 0x00, 0x00]))
                elif kind == 0x80:  # SUBSCRIBE
                    if policy == "hang_up":
                        return
                    codes = self._requested_qos(body[2:])
                    if policy == "refuse":
                        codes = [0x80] * len(codes)
                    writer.write(bytes([0x90, 2 + len(codes), *body[:2], *codes]))
                elif kind == 0xC0:  # PINGREQ
                    writer.write(bytes([0xD0, 0x00]))
                elif kind == 0xE0:  # DISCONNECT
                    return
                await writer.drain()

    @staticmethod
    async def _packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        kind = (await reader.readexactly(1))[0] & 0xF0
        length, shift = 0, 0
        while True:
            byte = (await reader.readexactly(1))[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return kind, await reader.readexactly(length)

    @staticmethod
    def _requested_qos(filters: bytes) -> list[int]:
        qos, pos = [], 0
        while pos < len(filters):
            size = int.from_bytes(filters[pos : pos + 2], "big")
            pos += 2 + size
            qos.append(filters[pos])
            pos += 1
        return qos


async def test_refused_subscriptions(
    socket_enabled: None, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    broker = FakeBroker("refuse", "refuse")
    async with fake_server(broker) as port:
        settings = BrokerSettings(host="127.0.0.1", port=port, client_id="x")
        client, recorder = make_client(settings, backoff=Backoff(base=0.05, cap=0.2))
        await client.connect()
        assert await recorder.change() is True
        with pytest.raises(MqttError, match="subscription refused"):
            await client.subscribe("denied/#", 1)

        # Refused again after a reconnect: logged, but the connection itself is fine.
        (await _get(broker.connections)).transport.abort()
        assert await recorder.change() is False
        assert await recorder.change() is True
        assert client.connected
        assert "Resubscribing on" in caplog.text


async def test_connection_lost_while_resubscribing_is_retried(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """No "connected" until the subscriptions are back, even if that takes two tries."""
    broker = FakeBroker("grant", "hang_up", "grant")
    async with fake_server(broker) as port:
        settings = BrokerSettings(host="127.0.0.1", port=port, client_id="x")
        client, recorder = make_client(settings, backoff=Backoff(base=0.05, cap=0.2))
        await client.connect()
        await client.subscribe("kept/#", 1)
        assert await recorder.change() is True

        (await _get(broker.connections)).transport.abort()
        assert await recorder.change() is False
        assert await recorder.change() is True
        # The second connection hung up on SUBSCRIBE; only the third one counts.
        assert broker.accepted == 3
        assert client.connected
        assert client.stats.connects == 2
        assert client.stats.connection_losses == 1
        assert client.subscriptions == {"kept/#": 1}


async def test_reconnect_without_callbacks_or_subscriptions(
    socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The bare client connection.py builds: nothing to report to, nothing to restore."""
    broker = FakeBroker()
    backoff, delays = observed_backoff()
    async with fake_server(broker) as port:
        settings = BrokerSettings(host="127.0.0.1", port=port, client_id="x")
        client = MqttClient(settings, on_message=lambda *_: None, backoff=backoff)
        try:
            await client.connect()
            assert client.connected
            (await _get(broker.connections)).transport.abort()
            await _get(delays)  # the loss was noticed: a reconnect is scheduled
            await _get(broker.connections)  # ... and made
            async with asyncio.timeout(TIMEOUT):
                while not client.connected:  # no callback to await: poll
                    await asyncio.sleep(0.01)
            assert client.stats.connects == 2
        finally:
            await client.close()
        assert "Connection to MQTT broker 127.0.0.1" in caplog.text


async def reset_on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the connection with a TCP reset (SO_LINGER 0, then close)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer a TLS ClientHello with plain text."""
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    await writer.drain()
    await silent(reader, writer)


@pytest.mark.parametrize(
    ("handler", "tls", "reason"),
    [
        (reset_on_accept, True, ConnectFailure.TLS_ERROR),
        (reset_on_accept, False, ConnectFailure.CANNOT_CONNECT),
        (not_tls, True, ConnectFailure.TLS_ERROR),
    ],
    ids=["tls-reset", "tcp-reset", "tls-garbage"],
)
async def test_broken_servers(
    socket_enabled: None,
    make_client: MakeClient,
    handler: Handler,
    tls: bool,
    reason: ConnectFailure,
) -> None:
    async with fake_server(handler) as port:
        mode = TlsMode.SYSTEM_CA if tls else TlsMode.OFF
        settings = BrokerSettings(
            host="127.0.0.1", port=port, client_id="x", tls=TlsSettings(mode=mode)
        )
        client, _ = make_client(settings)
        err = await connect_failure(client)
        assert err.reason is reason
