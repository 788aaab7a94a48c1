"""How MqttClient reads: bursts, split packets, odd topics, no garbage, no stale bytes.

These guard the read path's paho overrides (``_sock_recv``, ``_handle_on_message``,
``_create_socket``'s buffer reset) and the socket bridge's drain loop, with a
hand-rolled server that writes exactly the bytes each case needs.
"""

from __future__ import annotations

import asyncio
import gc
import itertools

from .helpers import (
    CONNACK,
    MakeClient,
    Message,
    fake_server,
    local,
    observed_backoff,
    publish_packet,
    silent,
)


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
        client, recorder = make_client(local(port))
        await client.connect()
        assert await recorder.message() == Message("good/topic", b"kept", 0, False)
        assert recorder.messages.empty()
        assert client.stats.undecodable_topics == 1  # diagnostics: the only trace it leaves
        assert client.connected


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
        client, recorder = make_client(local(port))
        await client.connect()
        for n in range(count):
            assert await recorder.message() == Message("burst", str(n).encode(), 0, False)
        assert recorder.messages.empty()


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
        client, recorder = make_client(local(port))
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
        client, recorder = make_client(local(port))
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
        client, recorder = make_client(local(port), backoff=backoff)
        await client.connect()
        assert await recorder.change() is True
        connected.put_nowait(None)
        assert await recorder.change() is False
        assert await recorder.change() is True
        assert await recorder.message() == Message("t", b"fresh", 0, False)
        assert recorder.messages.empty()
