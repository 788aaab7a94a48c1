"""Another client with our client id: noticed, and no reconnect ping-pong with it.

The detector alone (clock injected), then the client against a real mosquitto with a
raw paho client using its client id, and against a fake MQTT 5 broker saying
"Session taken over" (mosquitto only says so from 2.0.15 on; the test broker just
closes the socket, for MQTT 3.1.1 and 5 alike).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import itertools
import threading
from types import TracebackType
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTv5, MQTTv311
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.client import MqttClient
from custom_components.iot_hub.core.mqtt.errors import MqttError
from custom_components.iot_hub.core.mqtt.settings import Protocol
from custom_components.iot_hub.core.mqtt.takeover import SESSION_TAKEN_OVER, TakeoverDetector

from ...broker import Mosquitto
from ...helpers import creds, run
from .helpers import (
    PROTOCOLS,
    TIMEOUT,
    MakeClient,
    Recorder,
    assert_round_trip,
    fake_server,
    get,
    local,
    settings_for,
    silent,
)

# How soon the intruder reconnects once the broker dropped it (paho's own reconnect).
INTRUDER_DELAY = 0.05
# The reconnect delays the client draws while the intruder keeps kicking it (no jitter).
GROWING = [0.1, 0.2, 0.4, 0.8, 0.8, 0.8]


class FakeClock:
    """Monotonic seconds that the test moves forward."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingBackoff(Backoff):
    """Full nominal delays (no jitter); each delay drawn is put on `drawn`."""

    def __init__(self, base: float = 0.1, cap: float = 0.8) -> None:
        super().__init__(base=base, cap=cap, rand=lambda: 1.0)
        self.drawn: asyncio.Queue[float] = asyncio.Queue()

    def next_delay(self) -> float:
        delay = super().next_delay()
        self.drawn.put_nowait(delay)
        return delay


class Intruder:
    """Another client with our client id that reconnects whenever the broker drops it.

    A plain paho client in its own loop thread, as a misconfigured program would run
    it (paho resets its reconnect delay on every CONNACK). After `leave()` it stays
    away the next time it is dropped, so the connection that dropped it is the last.
    """

    def __init__(self, broker: Mosquitto, client_id: str, protocol: Protocol) -> None:
        self.broker = broker
        self.connects = 0
        self.gone = threading.Event()
        self._leaving = False
        self.paho = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTv5 if protocol is Protocol.V5 else MQTTv311,
        )
        self.paho.username_pw_set(broker.username, broker.password)
        # Typed int, but paho sleeps for any float.
        self.paho.reconnect_delay_set(INTRUDER_DELAY, INTRUDER_DELAY)  # type: ignore[arg-type]
        self.paho.on_connect = self._on_connect
        self.paho.on_disconnect = self._on_disconnect

    def __enter__(self) -> Intruder:
        self.paho.connect_async(self.broker.host, self.broker.port_password)
        self.paho.loop_start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()

    def leave(self) -> None:
        """Do not come back after the next drop."""
        self._leaving = True

    async def wait_gone(self) -> None:
        """Return once it was dropped after `leave()` (and stays away)."""
        assert await asyncio.to_thread(self.gone.wait, TIMEOUT), "the intruder never left"

    def _on_connect(
        self, client: Client, userdata: Any, flags: ConnectFlags, rc: ReasonCode, props: Any
    ) -> None:
        self.connects += 1

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        rc: ReasonCode,
        props: Properties | None,
    ) -> None:
        if self._leaving:
            client.disconnect()  # paho's loop then ends instead of reconnecting
            self.gone.set()


async def kick_once(broker: Mosquitto, client_id: str) -> None:
    """Connect once with `client_id` (taking the connection over) and leave."""
    result = await run(
        "mosquitto_pub",
        *["-h", broker.host, "-p", str(broker.port_password), *creds(broker)],
        *["-i", client_id, "-t", "takeover/once", "-m", "x"],
    )
    assert result.returncode == 0, result.stderr


async def settle(client: MqttClient, recorder: Recorder) -> None:
    """Wait until the client is connected and a round trip works on that connection."""
    while True:
        while not client.connected:
            await recorder.change()  # past flaps first, then the reconnect
        try:
            await assert_round_trip(client, recorder, "takeover/echo")
        except MqttError:
            continue  # dropped by a kick from before: the next reconnect is the one
        return


def drain[T](queue: asyncio.Queue[T]) -> None:
    while not queue.empty():
        queue.get_nowait()


# --------------------------------------------------------------- the detector


def detector(clock: Callable[[], float]) -> TakeoverDetector:
    return TakeoverDetector(clock=clock, stable_after=30.0, threshold=3, window=300.0)


def connection(det: TakeoverDetector, clock: FakeClock, lived: float, reason: int = 0x80) -> bool:
    det.established()
    clock.now += lived
    return det.lost(reason)


def test_three_short_connections_in_a_row_are_a_takeover() -> None:
    clock = FakeClock()
    det = detector(clock)
    assert not det.up
    assert [connection(det, clock, 1.0) for _ in range(2)] == [False, False]
    assert not det.suspected
    assert connection(det, clock, 29.9) is False
    assert det.suspected
    assert det.detections == 1
    # It goes on while they go on.
    assert connection(det, clock, 0.1) is False
    assert det.suspected
    assert det.detections == 2


def test_a_stable_connection_ends_the_run_and_is_a_success() -> None:
    clock = FakeClock()
    det = detector(clock)
    connection(det, clock, 1.0)
    connection(det, clock, 1.0)
    assert connection(det, clock, 30.0) is True
    assert not det.suspected
    connection(det, clock, 1.0)
    connection(det, clock, 1.0)
    assert not det.suspected
    connection(det, clock, 1.0)
    assert det.suspected
    # A stable connection after the takeover: over.
    assert connection(det, clock, 45.0) is True
    assert not det.suspected


def test_short_connections_spread_beyond_the_window_are_no_run() -> None:
    clock = FakeClock()
    det = detector(clock)
    for _ in range(3):
        clock.now += 199.0  # ... broker or network trouble every few minutes
        connection(det, clock, 1.0)
        assert not det.suspected
    # The last three within the window now.
    clock.now += 50.0
    connection(det, clock, 1.0)
    assert det.suspected


def test_session_taken_over_is_a_takeover_at_once_and_sticks_until_a_stable_connection() -> None:
    clock = FakeClock()
    det = detector(clock)
    # Even at the end of a long connection (that one still resets the backoff).
    assert connection(det, clock, 3600.0, SESSION_TAKEN_OVER) is True
    assert det.suspected
    # The next short losses carry no reason (another broker path): still the takeover.
    assert connection(det, clock, 1.0) is False
    assert det.suspected
    assert connection(det, clock, 60.0) is True
    assert not det.suspected


def test_a_loss_without_a_connection_changes_nothing() -> None:
    clock = FakeClock()
    det = detector(clock)
    assert det.lost(SESSION_TAKEN_OVER) is False  # a failed attempt
    assert not det.suspected
    det.established()
    assert det.up
    clock.now += 1.0
    assert det.lost() is False
    assert not det.up
    assert det.lost(SESSION_TAKEN_OVER) is False  # the same loss reported twice
    assert not det.suspected
    assert det.detections == 0


def test_defaults_use_the_monotonic_clock() -> None:
    det = TakeoverDetector()
    det.established()
    assert det.lost() is False  # lived a few microseconds
    assert not det.suspected


# ------------------------------------------------------------ the client


@PROTOCOLS
async def test_a_client_using_our_id_makes_us_back_off(
    mosquitto: Mosquitto, make_client: MakeClient, protocol: Protocol
) -> None:
    loop = asyncio.get_running_loop()
    clock = FakeClock()
    backoff = RecordingBackoff()
    takeovers: asyncio.Queue[None] = asyncio.Queue()
    settings = settings_for(mosquitto, protocol=protocol)
    client, recorder = make_client(
        settings,
        backoff=backoff,
        takeover=detector(clock),
        on_takeover=lambda: takeovers.put_nowait(None),
    )
    await client.connect()
    assert await recorder.change() is True
    await client.subscribe("takeover/#", 1)  # resubscribed on every reconnect

    with Intruder(mosquitto, settings.client_id, protocol) as intruder:
        started = loop.time()
        drawn = [await get(backoff.drawn) for _ in GROWING]
        elapsed = loop.time() - started
        intruder_connects = intruder.connects
        # Each reconnect kicks the intruder, which kicks us back at once: the delay
        # grows to the cap instead of starting over after every short connection.
        assert drawn == GROWING
        await get(takeovers)  # from the third short connection on
        assert client.takeover.suspected
        print(
            f"takeover ({protocol}): {len(drawn)} losses and reconnect delays in "
            f"{elapsed:.2f} s, takeover reported {client.takeover.detections} times, "
            f"intruder connects: {intruder_connects}"
        )
        # One loss per intruder connect, one reconnect per delay: no tight loop.
        assert elapsed >= sum(drawn[:-1])
        assert intruder_connects <= len(drawn) + 1

        intruder.leave()
        await intruder.wait_gone()
        await settle(client, recorder)

    # The connection holds. Once it has lived long enough, a loss starts over from
    # the base delay, and one loss after a stable connection is no takeover.
    drain(takeovers)
    drain(backoff.drawn)
    clock.now += 30.0
    await kick_once(mosquitto, settings.client_id)
    assert await get(backoff.drawn) == GROWING[0]
    await settle(client, recorder)
    assert not client.takeover.suspected
    assert takeovers.empty()


async def test_session_taken_over_is_reported_at_the_first_loss(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """MQTT 5 DISCONNECT 0x8E: a takeover at once, even after a long connection."""
    connections = itertools.count()
    connected = asyncio.Queue[None]()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(bytes([0x20, 0x03, 0x00, 0x00, 0x00]))  # MQTT 5 CONNACK
        await writer.drain()
        if next(connections) == 0:
            await connected.get()
            # DISCONNECT 0x8E with a reason string (paho 2.1 reads the reason code
            # only when properties follow it).
            reason_string = b"\x1f\x00\x03bye"
            writer.write(bytes([0xE0, 2 + len(reason_string), 0x8E, len(reason_string)]))
            writer.write(reason_string)
            await writer.drain()
        await silent(reader, writer)

    clock = FakeClock()
    backoff = RecordingBackoff()
    takeovers: asyncio.Queue[None] = asyncio.Queue()
    async with fake_server(handler) as port:
        client, recorder = make_client(
            local(port, protocol=Protocol.V5),
            backoff=backoff,
            takeover=detector(clock),
            on_takeover=lambda: takeovers.put_nowait(None),
        )
        await client.connect()
        assert await recorder.change() is True
        clock.now += 3600.0
        connected.put_nowait(None)
        await get(takeovers)
        assert client.takeover.suspected
        assert await recorder.change() is False
        assert await get(backoff.drawn) == GROWING[0]
        assert await recorder.change() is True
        assert takeovers.empty()


async def test_a_client_without_takeover_callback_still_backs_off(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    """The default detector, and nobody to tell: the delays grow all the same."""
    backoff = RecordingBackoff()
    settings = settings_for(mosquitto)
    client, recorder = make_client(settings, backoff=backoff)
    await client.connect()
    assert await recorder.change() is True
    with Intruder(mosquitto, settings.client_id, Protocol.V311) as intruder:
        assert [await get(backoff.drawn) for _ in range(4)] == GROWING[:4]
        assert client.takeover.suspected
        intruder.leave()
        await intruder.wait_gone()
        await settle(client, recorder)
