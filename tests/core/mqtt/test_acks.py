"""AckWaiters: whichever of ack and waiter comes first, and nothing left behind."""

from __future__ import annotations

import asyncio
import gc

import pytest

from custom_components.iot_hub.core.mqtt.acks import AckWaiters
from custom_components.iot_hub.core.mqtt.errors import MqttError, MqttNotConnectedError


async def test_ack_after_its_waiter() -> None:
    acks = AckWaiters()
    waiting = asyncio.create_task(acks.wait(1))
    await asyncio.sleep(0)
    assert not waiting.done()
    acks.resolve(1)
    await waiting
    assert len(acks) == 0


async def test_ack_before_its_waiter_is_kept_for_it() -> None:
    acks = AckWaiters()
    acks.resolve(1)
    acks.resolve(2, MqttError("refused"))
    acks.resolve(2)  # a duplicate changes nothing
    assert len(acks) == 2
    # Claimed within the same step, as MqttClient does right after the paho call.
    async with asyncio.timeout(0.1):
        await acks.wait(1)
    with pytest.raises(MqttError, match="refused"):
        await acks.wait(2)
    assert len(acks) == 0


async def test_an_unclaimed_ack_is_dropped_on_the_next_iteration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A late ack of a waiter that gave up, or paho's on_publish of a QoS 0 message."""
    acks = AckWaiters()
    for mid in range(1, 101):
        acks.resolve(mid, MqttError("refused") if mid % 2 else None)
    assert len(acks) == 100
    await asyncio.sleep(0)
    assert len(acks) == 0
    gc.collect()
    assert "never retrieved" not in caplog.text

    # So a later request that reuses the message id waits for its own ack.
    waiting = asyncio.create_task(acks.wait(1))
    await asyncio.sleep(0)
    assert not waiting.done()
    acks.resolve(1)
    await waiting


async def test_a_waiter_that_gives_up_leaves_nothing() -> None:
    acks = AckWaiters()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await acks.wait(3)
    assert len(acks) == 0
    acks.resolve(3)  # late
    await asyncio.sleep(0)
    assert len(acks) == 0

    waiting = asyncio.create_task(acks.wait(4))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert len(acks) == 0


async def test_fail_all_fails_the_waiters_and_drops_unclaimed_acks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    acks = AckWaiters()
    waiting = asyncio.create_task(acks.wait(7))
    await asyncio.sleep(0)
    acks.resolve(8, MqttError("refused"))  # nobody claims it
    acks.fail_all(MqttNotConnectedError("lost"))
    acks.resolve(7)  # an ack racing the failure changes nothing
    with pytest.raises(MqttNotConnectedError, match="lost"):
        await waiting
    assert len(acks) == 0
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_a_waiter_ending_leaves_a_newer_waiter_of_its_message_id_alone() -> None:
    """paho reuses message ids (they wrap at 65535): only ever drop one's own future."""
    acks = AckWaiters()
    old = asyncio.create_task(acks.wait(5))
    await asyncio.sleep(0)
    new = asyncio.create_task(acks.wait(5))
    await asyncio.sleep(0)
    old.cancel()
    with pytest.raises(asyncio.CancelledError):
        await old
    assert len(acks) == 1
    acks.resolve(5)
    await new
    assert len(acks) == 0
