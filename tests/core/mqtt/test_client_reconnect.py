"""MqttClient reconnecting: backoff, restored subscriptions, refused credentials, close()."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from custom_components.iot_hub.core.mqtt import client as client_module
from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.client import MqttClient
from custom_components.iot_hub.core.mqtt.connect import blocking_connect
from custom_components.iot_hub.core.mqtt.errors import ConnectFailure, MqttNotConnectedError
from custom_components.iot_hub.core.mqtt.settings import BrokerSettings, Protocol

from ...broker import Mosquitto
from .helpers import (
    PROTOCOLS,
    TIMEOUT,
    FakeBroker,
    GatedProxy,
    MakeClient,
    Message,
    connack,
    fake_server,
    get,
    local,
    observed_backoff,
    set_password,
    settings_for,
    silent,
    tls_settings,
)


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
    await get(delays)
    await get(delays)
    # Diagnostics tell why the client is still down.
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
    assert client.stats.last_error == str(err)

    # Give the client its password back: a client still retrying would now get in
    # (within the backoff cap) and report it.
    set_password(mosquitto, mosquitto.password)
    mosquitto.kill()
    mosquitto.restart()
    await asyncio.sleep(0.6)  # three times the backoff cap: absence cannot be awaited
    assert not client.connected
    assert recorder.changes.empty()
    assert recorder.auth_failures.empty()


async def test_connection_lost_while_resubscribing_is_retried(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """No "connected" until the subscriptions are back, even if that takes two tries."""
    broker = FakeBroker("grant", "hang_up", "grant")
    async with fake_server(broker) as port:
        client, recorder = make_client(local(port), backoff=Backoff(base=0.05, cap=0.2))
        await client.connect()
        await client.subscribe("kept/#", 1)
        assert await recorder.change() is True

        (await get(broker.connections)).transport.abort()
        assert await recorder.change() is False
        assert await recorder.change() is True
        # The second connection hung up on SUBSCRIBE; only the third one counts.
        assert broker.accepted == 3
        assert client.connected
        assert recorder.changes.empty()
        assert client.subscriptions == {"kept/#": 1}


async def test_reconnect_without_callbacks_or_subscriptions(
    socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    """The bare client connection.py builds: nothing to report to, nothing to restore."""
    broker = FakeBroker("grant", "grant", "bad_auth")
    backoff, delays = observed_backoff()
    async with fake_server(broker) as port:
        client = MqttClient(local(port), on_message=lambda *_: None, backoff=backoff)
        try:
            await client.connect()
            assert client.connected
            (await get(broker.connections)).transport.abort()
            await get(delays)  # the loss was noticed: a reconnect is scheduled
            second = await get(broker.connections)  # ... and made
            async with asyncio.timeout(TIMEOUT):
                while not client.connected:  # no callback to await: poll
                    await asyncio.sleep(0.01)
            assert "Connection to MQTT broker 127.0.0.1" in caplog.text

            # Refused credentials stop the reconnecting, with nobody to tell but the log.
            second.transport.abort()
            await get(broker.connections)
            async with asyncio.timeout(TIMEOUT):
                while "refused the credentials" not in caplog.text:  # poll, as above
                    await asyncio.sleep(0.01)
            assert not client.connected
            assert broker.connections.empty()
        finally:
            await client.close()


async def test_a_broker_disconnect_is_a_connection_loss_with_its_reason(
    socket_enabled: None, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """MQTT 5 brokers may say why they drop a client (mosquitto 2.0 just closes)."""
    connections = itertools.count()
    connected = asyncio.Queue[None]()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(bytes([0x20, 0x03, 0x00, 0x00, 0x00]))  # MQTT 5 CONNACK
        await writer.drain()
        if next(connections) == 0:
            await connected.get()
            # DISCONNECT: session taken over, with a reason string (paho 2.1 reads
            # the reason code only when properties follow it).
            reason_string = b"\x1f\x00\x03bye"
            writer.write(bytes([0xE0, 2 + len(reason_string), 0x8E, len(reason_string)]))
            writer.write(reason_string)
            await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        settings = local(port, protocol=Protocol.V5)
        client, recorder = make_client(settings, backoff=Backoff(base=0.05, cap=0.2))
        await client.connect()
        assert await recorder.change() is True
        connected.put_nowait(None)
        assert await recorder.change() is False
        assert f"Lost connection to MQTT broker 127.0.0.1:{port}: Session taken over" in (
            caplog.text
        )
        assert await recorder.change() is True


async def test_a_broker_that_stops_answering_is_detected_by_keepalive(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """No PINGRESP within the keep-alive interval: the connection is declared lost."""
    async with fake_server(connack(0)) as port:
        client, recorder = make_client(local(port, keepalive=1))
        await client.connect()
        assert await recorder.change() is True
        async with asyncio.timeout(5):  # a PINGREQ after 1 s idle, then 1 s for the answer
            assert await recorder.change() is False
        assert not client.connected


async def test_an_unexpected_error_does_not_end_reconnecting(
    mosquitto: Mosquitto,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = False

    def flaky(paho: Any, settings: BrokerSettings) -> None:
        nonlocal failed
        if not failed:
            failed = True
            raise RuntimeError("bug")
        blocking_connect(paho, settings)

    client, recorder = make_client(settings_for(mosquitto), backoff=Backoff(base=0.05, cap=0.2))
    await client.connect()
    assert await recorder.change() is True
    monkeypatch.setattr(client_module, "blocking_connect", flaky)
    mosquitto.kill()
    assert await recorder.change() is False
    mosquitto.restart()
    assert await recorder.change() is True
    assert failed
    assert "Unexpected error reconnecting to" in caplog.text


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
        first = await get(proxy.accepted)

        proxy.gate.clear()
        first.transport.abort()  # the network drops the connection
        assert await recorder.change() is False
        await get(proxy.finished)
        await get(proxy.accepted)  # the reconnect's TLS handshake now waits at the gate

        closing = asyncio.create_task(client.close())
        await asyncio.sleep(0)  # close() starts
        proxy.gate.set()  # the handshake completes while close() runs
        await closing
        # The socket of that late connection is closed as well: the proxy sees it end.
        await get(proxy.finished)
        assert not client.connected
        assert recorder.changes.empty()


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
        await get(proxy.accepted)

        closing = asyncio.create_task(client.close())
        await asyncio.sleep(0)  # close() starts
        proxy.gate.set()
        await closing
        with pytest.raises(MqttNotConnectedError):
            await connecting
        await get(proxy.finished)
        assert not client.connected
        assert recorder.changes.empty()
