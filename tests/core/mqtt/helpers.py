"""What the MqttClient tests share: callback recorders, settings, hand-rolled servers.

Waiting is done on queues fed by the client's callbacks (or by a fake server),
never by sleeping; the exceptions are proving that something does *not* happen,
and short polls where nothing can be awaited (the broker's log, a client built
without callbacks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass, replace
import itertools
import socket
import subprocess
from typing import Any, NamedTuple

import pytest

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.client import MqttClient
from custom_components.iot_hub.core.mqtt.errors import MqttConnectError
from custom_components.iot_hub.core.mqtt.settings import (
    BrokerSettings,
    Protocol,
    TlsMode,
    TlsSettings,
)

from ...broker import Mosquitto

TIMEOUT = 10.0
PROTOCOLS = pytest.mark.parametrize("protocol", [Protocol.V311, Protocol.V5], ids=["v311", "v5"])
_ids = itertools.count()


class Message(NamedTuple):
    topic: str
    payload: bytes
    qos: int
    retain: bool


async def get[T](queue: asyncio.Queue[T]) -> T:
    async with asyncio.timeout(TIMEOUT):
        return await queue.get()


@dataclass
class Recorder:
    """What the client reported through its callbacks, as awaitable queues."""

    messages: asyncio.Queue[Message]
    changes: asyncio.Queue[bool]
    auth_failures: asyncio.Queue[MqttConnectError]

    def on_message(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.messages.put_nowait(Message(topic, payload, qos, retain))

    async def message(self) -> Message:
        return await get(self.messages)

    async def change(self) -> bool:
        return await get(self.changes)

    async def auth_failure(self) -> MqttConnectError:
        return await get(self.auth_failures)


# make_client(settings, *, on_message=None, **MqttClient kwargs) -> (client, recorder)
type MakeClient = Callable[..., tuple[MqttClient, Recorder]]


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


def local(port: int, **overrides: Any) -> BrokerSettings:
    """Settings for a hand-rolled server on 127.0.0.1 (no credentials)."""
    return BrokerSettings(host="127.0.0.1", port=port, client_id="x", **overrides)


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


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------- hand-rolled servers

type Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

CONNACK = bytes([0x20, 0x02, 0x00, 0x00])


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


def connack(return_code: int) -> Handler:
    """A fake MQTT 3.1.1 broker answering CONNECT with ``return_code``, then silent."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(bytes([0x20, 0x02, 0x00, return_code]))
        await writer.drain()
        await silent(reader, writer)

    return handler


def publish_packet(topic: bytes, payload: bytes) -> bytes:
    """A QoS 0 PUBLISH (MQTT 3.1.1 and 5 alike for a body under 128 bytes)."""
    body = len(topic).to_bytes(2, "big") + topic + payload
    assert len(body) < 128
    return bytes([0x30, len(body)]) + body


class FakeBroker:
    """Answers CONNECT, PINGREQ and SUBSCRIBE; how it answers SUBSCRIBE is set per connection.

    Policies: "grant" (the requested QoS), "hang_up" (close the connection
    instead of answering SUBSCRIBE) and "bad_auth" (refuse CONNECT: not authorized).
    Connections past the given policies are granted.
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
                    writer.write(bytes([0x20, 0x02, 0x00, 0x05 if policy == "bad_auth" else 0]))
                elif kind == 0x80:  # SUBSCRIBE
                    if policy == "hang_up":
                        return
                    codes = self._requested_qos(body[2:])
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
