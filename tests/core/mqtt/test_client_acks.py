"""PUBACK, SUBACK and UNSUBACK as MqttClient's callers see them.

Early acks, refusals (a real Mosquitto with an ACL), silence and close().
The bookkeeping itself is unit-tested in test_acks.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
import select
from typing import Any

from paho.mqtt.client import Client
import pytest

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.errors import (
    MqttError,
    MqttNotConnectedError,
    MqttTimeoutError,
)
from custom_components.iot_hub.core.mqtt.settings import Protocol

from ...broker import Mosquitto
from .helpers import (
    CONNACK,
    PROTOCOLS,
    TIMEOUT,
    MakeClient,
    Message,
    connack,
    fake_server,
    local,
    settings_for,
)


def answered_within(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make paho's ``name`` return only once the broker's ack has been read and handled.

    paho only queues the request; here it is written at once and the answer is
    read before the call returns, so on_publish/on_subscribe/on_unsubscribe run
    before MqttClient gets to wait for that message id.
    """
    original: Callable[..., Any] = getattr(Client, name)

    def call(self: Client, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        self.loop_write()
        sock = self.socket()
        assert sock is not None
        readable, _, _ = select.select([sock], [], [], TIMEOUT)
        assert readable, f"no answer to {name}"
        self.loop_read()
        return result

    monkeypatch.setattr(Client, name, call)


@pytest.mark.parametrize("request_name", ["publish", "subscribe", "unsubscribe"])
async def test_an_ack_that_arrives_before_its_waiter_is_not_lost(
    mosquitto: Mosquitto,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    request_name: str,
) -> None:
    # Before the fix such an ack was dropped: the call waited for ack_timeout and
    # raised MqttTimeoutError although the broker had acknowledged it.
    client, recorder = make_client(settings_for(mosquitto), ack_timeout=1.0)
    await client.connect()
    await client.subscribe("early/#", 1)
    answered_within(monkeypatch, request_name)

    loop = asyncio.get_running_loop()
    started = loop.time()
    if request_name == "publish":
        # To a topic nobody subscribed: the PUBACK is all the broker answers.
        await client.publish("elsewhere/ack", b"acked", qos=1)
    elif request_name == "subscribe":
        await client.subscribe("early2/#", 1)
    else:
        await client.unsubscribe("early/#")
    assert loop.time() - started < 0.5  # the ack was there: no waiting for it
    monkeypatch.undo()

    if request_name == "subscribe":
        await mosquitto.publish("early2/x", "subscribed")
        assert await recorder.message() == Message("early2/x", b"subscribed", 1, False)
    elif request_name == "unsubscribe":
        await client.publish("early/x", b"gone", qos=1)
        await client.subscribe("check/#", 1)
        await client.publish("check/x", b"here", qos=1)
        assert await recorder.message() == Message("check/x", b"here", 1, False)
    assert client.connected


@PROTOCOLS
async def test_refused_subscription(
    make_mosquitto: Callable[..., Mosquitto],
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
    protocol: Protocol,
) -> None:
    """An ACL-denied SUBSCRIBE: mosquitto answers SUBACK 0x80 (3.1.1) or 0x87 (5)."""
    broker = make_mosquitto(acl=["iot/#"])
    settings = settings_for(broker, protocol=protocol)
    client, recorder = make_client(settings, backoff=Backoff(base=0.05, cap=0.2))
    await client.connect()
    assert await recorder.change() is True

    # paho's names of 0x80 and 0x87.
    answer = "Unspecified error" if protocol is Protocol.V311 else "Not authorized"
    with pytest.raises(MqttError, match=f"subscription refused: \\['{answer}'\\]"):
        await client.subscribe("forbidden/#", 1)
    # The connection stays up and allowed subscriptions work.
    assert client.connected
    await client.subscribe("iot/#", 1)
    await broker.publish("iot/sensor", "allowed")
    assert await recorder.message() == Message("iot/sensor", b"allowed", 1, False)
    assert recorder.changes.empty()

    # Refused again after a reconnect: logged, the rest is restored, the connection is fine.
    broker.kill()
    assert await recorder.change() is False
    broker.restart()
    assert await recorder.change() is True
    assert f"Resubscribing on {broker.host}:{broker.port_password} failed" in caplog.text
    await broker.publish("iot/sensor", "after restart")
    assert await recorder.message() == Message("iot/sensor", b"after restart", 1, False)
    assert recorder.changes.empty()


async def test_unacknowledged_requests_time_out_and_close_fails_pending(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """A broker that accepts the connection but never acknowledges anything."""
    async with fake_server(connack(0)) as port:
        settings = local(port)
        client, recorder = make_client(settings, ack_timeout=0.2)
        await client.connect()
        assert await recorder.change() is True
        with pytest.raises(MqttTimeoutError):
            await client.subscribe("no/suback", 1)
        with pytest.raises(MqttTimeoutError):
            await client.publish("no/puback", b"x", qos=1)
        with pytest.raises(MqttTimeoutError):
            await client.unsubscribe("no/suback")
        # QoS 0 waits for nothing.
        await client.publish("no/puback", b"x", qos=0)

        # A publish still waiting for its PUBACK fails once the client is closed.
        client_with_patience, _ = make_client(replace(settings, client_id="y"), ack_timeout=TIMEOUT)
        await client_with_patience.connect()
        waiting = asyncio.create_task(client_with_patience.publish("no/puback", b"x", qos=1))
        await asyncio.sleep(0)  # let the publish reach its wait
        await client_with_patience.close()
        with pytest.raises(MqttNotConnectedError):
            await waiting


async def test_a_lost_connection_fails_the_waiters(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """No ack comes on a closed connection: waiting for one fails at once, not at the timeout."""
    hang_up = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK)
        await writer.drain()
        await hang_up.wait()

    async with fake_server(handler) as port:
        client, recorder = make_client(local(port), ack_timeout=TIMEOUT)
        await client.connect()
        assert await recorder.change() is True
        waiting = asyncio.create_task(client.publish("t", b"x", qos=1))
        await asyncio.sleep(0)  # let the publish reach its wait
        hang_up.set()
        with pytest.raises(MqttNotConnectedError, match="lost connection"):
            async with asyncio.timeout(TIMEOUT / 2):
                await waiting
        assert await recorder.change() is False
