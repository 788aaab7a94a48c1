"""MqttClient against a real Mosquitto: subscribe, receive, publish, unsubscribe, close."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.iot_hub.core.mqtt.errors import MqttNotConnectedError
from custom_components.iot_hub.core.mqtt.settings import Protocol, Transport

from ...broker import Mosquitto
from .helpers import (
    PROTOCOLS,
    TIMEOUT,
    MakeClient,
    Message,
    assert_round_trip,
    get,
    settings_for,
)


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

    # Nothing else: no duplicate, no connection change.
    assert recorder.messages.empty()
    assert recorder.changes.empty()
    assert client.stats.messages_published == 3  # diagnostics


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
    mosquitto: Mosquitto, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    def handler(topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if payload == b"boom":
            raise RuntimeError("consumer bug")
        received.put_nowait(payload)

    client, recorder = make_client(settings_for(mosquitto), on_message=handler)
    await client.connect()
    await client.subscribe("h/#", 1)
    await mosquitto.publish("h/1", "boom")
    await mosquitto.publish("h/2", "fine")
    assert await get(received) == b"fine"
    assert client.connected
    assert await recorder.change() is True
    assert recorder.changes.empty()
    assert "Error handling message on h/1" in caplog.text


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
    assert recorder.changes.empty()
    # The broker saw a clean DISCONNECT, not a dropped connection.
    async with asyncio.timeout(TIMEOUT):
        while f"Client {client.settings.client_id} disconnected." not in mosquitto.log():
            await asyncio.sleep(0.02)  # the broker log has no callback: poll
    assert f"Client {client.settings.client_id} closed its connection" not in mosquitto.log()


async def test_subscribe_and_unsubscribe_while_disconnected_only_remember(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    client, _ = make_client(settings_for(mosquitto))
    await client.subscribe("later/#", 0)
    assert client.subscriptions == {"later/#": 0}
    await client.unsubscribe("later/#")
    assert client.subscriptions == {}
