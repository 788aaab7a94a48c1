"""MqttClient on a half-open connection: the path goes silent, neither side closes.

A proxy (tests/proxy.py) between the client and a real mosquitto swallows every
byte both ways. Only the keep-alive can tell: the client pings after a
keep-alive of silence and must give up when no answer came within 1.5 x
keep-alive of the last byte it received (what MQTT gives a server to notice a
silent client), report the loss once and reconnect. paho alone waits a whole
keep-alive for the answer: 2 keep-alives in all.
"""

from __future__ import annotations

import asyncio

import pytest

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.settings import Protocol

from ...broker import Mosquitto
from ...proxy import half_open_proxy
from .helpers import PROTOCOLS, TIMEOUT, MakeClient, Message, assert_round_trip, settings_for

KEEPALIVE = 2
# Timers fire late on a loaded machine (two test workers on two cores); paho alone
# takes at least 2 keep-alives, half a keep-alive more than allowed.
SLACK = 0.5


@pytest.mark.slow
@PROTOCOLS
async def test_a_half_open_connection_is_detected_within_one_and_a_half_keepalives(
    mosquitto: Mosquitto, make_client: MakeClient, protocol: Protocol
) -> None:
    loop = asyncio.get_running_loop()
    async with half_open_proxy(mosquitto.host, mosquitto.port_password) as proxy:
        settings = settings_for(mosquitto, port=proxy.port, keepalive=KEEPALIVE, protocol=protocol)
        client, recorder = make_client(
            settings, backoff=Backoff(base=0.05, cap=0.2), connect_timeout=KEEPALIVE
        )
        await client.connect()
        assert await recorder.change() is True

        # Idle through the proxy: answered pings keep the connection up (no false alarm).
        pingreq = f"Received PINGREQ from {settings.client_id}"
        async with asyncio.timeout(TIMEOUT):
            while mosquitto.log().count(pingreq) < 2:  # the broker log has no callback: poll
                await asyncio.sleep(0.02)
        assert client.connected
        assert recorder.changes.empty()

        # Something was just received; then the path goes silent.
        await assert_round_trip(client, recorder, "half-open/echo")
        proxy.swallow()
        async with asyncio.timeout(3 * KEEPALIVE):
            assert await recorder.change() is False
        # Counted from the last byte the client could hear: it cannot know any sooner.
        detected = loop.time() - proxy.last_to_client
        print(f"half-open ({protocol}): loss reported {detected:.3f} s after the last byte")
        assert 1.5 * KEEPALIVE <= detected <= 1.5 * KEEPALIVE + SLACK
        assert not client.connected
        assert proxy.swallowed_from_client > 0  # the ping went into the void
        assert client.stats.connection_losses == 1
        assert client.stats.last_error == "Keep alive timeout"

        # The path comes back: the client reconnects through it, subscriptions restored.
        proxy.forward()
        assert await recorder.change() is True
        assert proxy.accepted >= 2
        await mosquitto.publish("half-open/echo", "back")
        assert await recorder.message() == Message("half-open/echo", b"back", 1, False)
        assert recorder.changes.empty()
        assert client.stats.connection_losses == 1
