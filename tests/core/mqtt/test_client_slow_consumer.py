"""A burst for a slow consumer: the read path yields to the event loop in time.

Each message costing milliseconds is what a burst of new devices is to Home
Assistant (it adds their entities as each one arrives). The socket bridge drains
at most 10 ms of them per wake-up, then lets the loop run: the loop must not go
100 ms without running a timer, and every message still arrives, in order.
"""

from __future__ import annotations

import asyncio
import time

from .helpers import CONNACK, TIMEOUT, MakeClient, fake_server, local, publish_packet, silent

COUNT = 300
COST = 0.005  # per message: the slow consumer
MAX_STALL = 0.1


async def test_a_burst_for_a_slow_consumer_never_holds_the_loop(
    socket_enabled: None, make_client: MakeClient
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK)
        # All of them in one segment: the client holds them all after one read.
        writer.write(b"".join(publish_packet(b"burst", str(n).encode()) for n in range(COUNT)))
        await writer.drain()
        await silent(reader, writer)

    loop = asyncio.get_running_loop()
    payloads: list[bytes] = []
    done = loop.create_future()

    def on_message(topic: str, payload: bytes, qos: int, retain: bool) -> None:
        time.sleep(COST)  # the fault: a consumer that takes milliseconds per message
        payloads.append(payload)
        if len(payloads) == COUNT:
            done.set_result(None)

    longest, last = 0.0, loop.time()

    def tick() -> None:
        nonlocal longest, last
        now = loop.time()
        longest, last = max(longest, now - last - 0.01), now
        handles.append(loop.call_later(0.01, tick))

    handles = [loop.call_later(0.01, tick)]
    try:
        async with fake_server(handler) as port:
            client, _ = make_client(local(port), on_message=on_message)
            await client.connect()
            async with asyncio.timeout(TIMEOUT):
                await done
    finally:
        handles[-1].cancel()
    print(f"slow consumer: {COUNT} messages, longest event-loop stall {longest * 1000:.0f} ms")
    assert payloads == [str(n).encode() for n in range(COUNT)]
    assert longest <= MAX_STALL
