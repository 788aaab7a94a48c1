"""scripts/simulator.py publishes what the integration's own decoders accept.

Each test runs the simulator as a subprocess against the real broker while a
``mosquitto_sub -v -C <n> -W 10`` collects the messages, then decodes every
payload with `custom_components.iot_hub.core.decoders`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
import importlib.util
from pathlib import Path
import subprocess
import sys

import pytest

from custom_components.iot_hub.core.local.dht11 import decode_dht11
from custom_components.iot_hub.core.local.events import decode_event
from custom_components.iot_hub.core.local.iot import decode_iot_data, decode_iot_status
from custom_components.iot_hub.core.local.models import (
    DeviceModel,
    DeviceStatus,
    Event,
    EventType,
    Reading,
    Rejected,
    Status,
)

from .broker import Mosquitto
from .test_broker_fixture import CLI_TIMEOUT, creds, run, wait_for_log

SIMULATOR = Path(__file__).resolve().parents[1] / "scripts" / "simulator.py"
COLLECTOR_ID = "simulator-collector"


@contextlib.asynccontextmanager
async def collector(
    broker: Mosquitto, topic: str, count: int
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Yield a ``mosquitto_sub -v -C count -W 10`` once the broker has acked its SUBSCRIBE.

    As `live_subscriber` (test_broker_fixture.py): the broker log tells when the
    subscription is in place, since the CLI's stdout is block-buffered in a pipe.
    """
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_sub",
        *["-h", broker.host, "-p", str(broker.port_password), *creds(broker)],
        *["-i", COLLECTOR_ID, "-t", topic, "-v", "-C", str(count), "-W", "10"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        await wait_for_log(broker, f"Sending SUBACK to {COLLECTOR_ID}")
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def simulate(
    broker: Mosquitto, topic: str, count: int, *args: str
) -> list[tuple[str, bytes]]:
    """Run the simulator with `args`; return the (topic, payload) of the ``count`` messages."""
    broker_args = ["--host", broker.host, "--port", str(broker.port_password)]
    login = ["--username", broker.username, "--password", broker.password]
    async with collector(broker, topic, count) as sub:
        result = await run(sys.executable, str(SIMULATOR), *broker_args, *login, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        # -C: it exits once it has printed `count` messages; -W 10: or after 10 s, failing.
        stdout, stderr = await asyncio.wait_for(sub.communicate(), CLI_TIMEOUT)
        assert sub.returncode == 0, f"mosquitto_sub exited {sub.returncode}: {stderr!r}"
    # One printed line per message, each acknowledged by the broker.
    published = [line for line in result.stdout.splitlines() if " [qos 1" in line]
    assert len(published) == count, result.stdout
    assert all(line.endswith(", ok]") for line in published), result.stdout
    lines = stdout.decode().splitlines()
    assert len(lines) == count, lines
    messages = []
    for line in lines:
        topic_name, _, payload = line.partition(" ")
        messages.append((topic_name, payload.encode()))
    return messages


def recent(moment: datetime | None) -> bool:
    return moment is not None and abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


async def test_single(mosquitto: Mosquitto) -> None:
    messages = await simulate(mosquitto, "dht11/#", 1, "single", "--temp", "21.5", "--hum", "48")

    [(topic, payload)] = messages
    assert topic == "dht11/sensor/data"
    reading = decode_dht11(payload)
    assert not isinstance(reading, Rejected), reading
    assert reading.device_id == "dht11"
    assert reading.model is DeviceModel.DHT11
    assert reading.values == {"temperature": 21.5, "humidity": 48.0}


async def test_motion_with_clear(mosquitto: Mosquitto) -> None:
    messages = await simulate(
        mosquitto, "sensor/#", 2, "motion", "--count", "1", "--clear-after", "0.2"
    )

    events: list[Event] = []
    for topic, payload in messages:
        assert topic == "sensor/motion"
        event = decode_event(payload)
        assert not isinstance(event, Rejected), event
        events.append(event)
    assert [event.presence for event in events] == [True, False]
    for event in events:
        assert event.type is EventType.MOTION_DETECTED
        assert event.device_id == "raspberry-1"
        assert event.source == "sensor-motion"
        assert event.data["gpio_pin"] == 17
        assert recent(event.device_time)
    assert events[0].event_id != events[1].event_id


async def test_pressure_custom_base_and_device(mosquitto: Mosquitto) -> None:
    messages = await simulate(
        mosquitto,
        "home/events/#",
        1,
        *["pressure", "--count", "1", "--events-base", "home/events", "--device", "mat-1"],
    )

    [(topic, payload)] = messages
    assert topic == "home/events/pressure"
    event = decode_event(payload)
    assert not isinstance(event, Rejected), event
    assert event.type is EventType.PRESSURE_DETECTED
    assert event.device_id == "mat-1"
    assert event.source == "sensor-pressure"
    assert event.pressure == "high"
    assert event.duration_ms == 500
    assert event.presence is None
    assert recent(event.device_time)


@pytest.mark.parametrize(
    ("layout", "devices"),
    [
        ("esp32", ["ESP32_001", "ESP32_002"]),
        ("rpi", ["RPI_001", "RPI_002"]),
        ("mixed", ["ESP32_001", "RPI_001"]),
    ],
)
async def test_fleet(mosquitto: Mosquitto, layout: str, devices: list[str]) -> None:
    # Per device: a retained online status, one reading, an offline status at the stop.
    messages = await simulate(
        mosquitto,
        "iot/#",
        3 * len(devices),
        *["fleet", "--devices", "2", "--layout", layout, "--count", "1", "--interval", "0"],
    )

    statuses: dict[str, list[Status]] = {device: [] for device in devices}
    readings: dict[str, list[Reading]] = {device: [] for device in devices}
    for topic, payload in messages:
        match topic.split("/"):
            case ["iot", "devices", device_id, "status"]:
                status = decode_iot_status(device_id, payload)
                assert not isinstance(status, Rejected), (topic, payload, status)
                statuses[device_id].append(status)
            case ["iot", "sensors", device_id, "data"]:
                reading = decode_iot_data(device_id, payload)
                assert not isinstance(reading, Rejected), (topic, payload, reading)
                readings[device_id].append(reading)
            case _:
                pytest.fail(f"unexpected topic {topic}")

    assert sorted(statuses) == sorted(readings) == devices
    for device_id in devices:
        online, offline = statuses[device_id]
        assert online.device_id == device_id
        assert online.status is DeviceStatus.ONLINE
        assert online.firmware == "1.2.0"
        assert 60 <= online.values["battery"] <= 100
        assert -80 <= online.values["rssi"] <= -40
        assert offline.status is DeviceStatus.OFFLINE

        [reading] = readings[device_id]
        assert reading.device_id == device_id
        assert set(reading.values) == {"temperature", "humidity"}
        assert 10 <= reading.values["temperature"] <= 35
        assert 20 <= reading.values["humidity"] <= 90
        if device_id.startswith("ESP32_"):
            assert reading.model is DeviceModel.ESP32
            # millis() since boot: no wall-clock time.
            assert reading.device_time is None
        else:
            assert reading.model is DeviceModel.RASPBERRY_PI
            assert recent(reading.device_time)


def test_demo_dht11_goes_through_cold_spells() -> None:
    spec = importlib.util.spec_from_file_location("iot_hub_simulator", SIMULATOR)
    assert spec is not None
    assert spec.loader is not None
    simulator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(simulator)
    args = simulator.parse_args(["demo", "--cold-readings", "3", "--warm-readings", "2"])
    readings = simulator.demo_dht11_readings(args)
    temps = [next(readings)[0] for _ in range(60)]
    # Down from 8 °C, 1 °C per reading, below the users' 5 °C threshold...
    assert temps[:5] == [8.0, 7.0, 6.0, 5.0, 4.0]
    cold = temps[5:8]
    assert all(2.7 <= t <= 3.3 for t in cold)
    # ...then back up to 22 °C, held, and cold again.
    assert 22.0 in temps
    assert max(temps) <= 22.3
    assert any(t <= 3.3 for t in temps[40:])
