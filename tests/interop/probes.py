"""Measure what a broker can do, with mosquitto's CLIs and no Home Assistant involved.

Each probe returns None when the broker can, else what it did instead: a test that
needs the feature skips with that text (measured on a running broker, never assumed
from a broker's name or documentation). A result is the implementation's: it is kept
for the rest of the test process (the first test that asks measures it).
"""

import asyncio
from collections.abc import Awaitable, Callable
import functools
import subprocess
import uuid

from ..helpers import Result, run
from .brokers import InteropBroker

# How long a subscriber waits for a message that should come at once (queued or retained).
WAIT = "3"
# Messages of a burst, and how many bursts must all arrive: the loss is not deterministic
# (amqtt 0.12.1 delivered 5 to 40 of 40, most often about 25; of 20, all in most tries).
BURST = 40
BURST_TRIES = 3
# How long a CONNECT may stay unanswered (mosquitto's CLIs have no connect timeout).
ANSWER_TIMEOUT = 5.0


async def _run_bounded(*args: str) -> Result | None:
    """Run a CLI; return None when it did not finish within ANSWER_TIMEOUT (then killed)."""
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), ANSWER_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None
    assert proc.returncode is not None
    return Result(proc.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


type Probe = Callable[[InteropBroker], Awaitable[str | None]]
_MEASURED: dict[tuple[str, str], str | None] = {}


def _once_per_broker(probe: Probe) -> Probe:
    """Measure on the first broker of each implementation; answer from memory after."""

    @functools.wraps(probe)
    async def measured(broker: InteropBroker) -> str | None:
        key = (broker.name, probe.__name__)
        if key not in _MEASURED:
            _MEASURED[key] = await probe(broker)
        return _MEASURED[key]

    return measured


def _said(result: Result) -> str:
    """What a CLI printed, on one line."""
    return " ".join(f"{result.stderr} {result.stdout}".split()) or "nothing"


@_once_per_broker
async def persistent_session(broker: InteropBroker) -> str | None:
    """Check that a QoS 1 message published while a session is offline is delivered later."""
    client_id = f"probe-{uuid.uuid4().hex[:8]}"
    topic = f"probe/persist/{client_id}"
    session = [*broker.cli_args(), "-i", client_id, "-c", "-q", "1", "-t", topic]
    # -E: exit once the broker acknowledged the subscription (session then offline).
    subscribed = await run("mosquitto_sub", *session, "-E")
    if subscribed.returncode != 0:
        return f"SUBSCRIBE with clean session off failed: {_said(subscribed)}"
    await broker.publish(topic, "queued", qos=1)
    back = await run("mosquitto_sub", *session, "-C", "1", "-W", WAIT)
    if "queued" not in back.stdout:
        return (
            "a QoS 1 message published while the session was offline was not "
            f"delivered at reconnect (clean session off; {_said(back)})"
        )
    return None


@_once_per_broker
async def burst_then_disconnect(broker: InteropBroker) -> str | None:
    """Check that a burst of QoS 1 messages survives its publisher's immediate DISCONNECT.

    Measured through an offline persistent session (like the integration's while it
    reloads), so there is no race with a live subscriber's SUBSCRIBE.
    """
    delivered = []
    for _ in range(BURST_TRIES):
        client_id = f"probe-{uuid.uuid4().hex[:8]}"
        topic = f"probe/burst/{client_id}"
        session = [*broker.cli_args(), "-i", client_id, "-c", "-q", "1", "-t", topic]
        subscribed = await run("mosquitto_sub", *session, "-E")
        if subscribed.returncode != 0:
            return f"SUBSCRIBE with clean session off failed: {_said(subscribed)}"
        await broker.publish_burst(topic, [f"m{i}" for i in range(BURST)])
        back = await run("mosquitto_sub", *session, "-C", str(BURST), "-W", WAIT)
        delivered.append(len(back.stdout.split()))
        if delivered[-1] != BURST:
            return (
                f"of {BURST} QoS 1 messages sent back to back on one connection (all "
                f"acknowledged) and then DISCONNECT, {delivered[-1]} were delivered "
                f"(tries: {', '.join(map(str, delivered))})"
            )
    return None


@_once_per_broker
async def mqtt5(broker: InteropBroker) -> str | None:
    """Check that the broker accepts an MQTT 5 CONNECT and a QoS 1 PUBLISH."""
    result = await _run_bounded(
        "mosquitto_pub", *broker.cli_args(), "-V", "mqttv5", "-q", "1", "-t", "probe/v5", "-m", "x"
    )
    if result is None:
        return f"no answer to an MQTT 5 CONNECT + PUBLISH within {ANSWER_TIMEOUT:g} s"
    if result.returncode != 0:
        return f"refuses MQTT 5 (mosquitto_pub -V mqttv5: {_said(result)})"
    return None


@_once_per_broker
async def retained(broker: InteropBroker) -> str | None:
    """Check that a retained message is delivered to a later subscriber."""
    topic = f"probe/retained/{uuid.uuid4().hex[:8]}"
    await broker.publish(topic, "kept", qos=1, retain=True)
    result = await run("mosquitto_sub", *broker.cli_args(), "-t", topic, "-C", "1", "-W", WAIT)
    # Clear it (a null retained message), so nothing else sees it.
    await run("mosquitto_pub", *broker.cli_args(), "-t", topic, "-r", "-n")
    if "kept" not in result.stdout:
        return f"a retained message was not delivered to a new subscriber ({_said(result)})"
    return None
