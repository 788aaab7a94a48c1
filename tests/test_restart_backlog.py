"""Home Assistant restarted while QoS 1 readings are published: the broker's queue, delivered.

A real restart, as in incidents/test_restart.py: Home Assistant stops (the entry sends
DISCONNECT, its persistent session stays on the broker), readings are published while no
IoT Hub client is connected, then a new Home Assistant starts on the same storage. The test
harness never writes the registries nor the restore states (its stores drop those writes),
so `stop` keeps what Home Assistant writes when it stops and `start_again` gives it to the
new instance, as the files on disk would.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass
from datetime import timedelta
import logging
from pathlib import Path
import threading
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    restore_state as rs,
)
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.json import json_dumps
from homeassistant.util.json import json_loads
import orjson
from paho.mqtt.client import Client as PahoClient, MQTTv311
from paho.mqtt.enums import CallbackAPIVersion
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.iot_hub.broker.runtime import BrokerRuntime
from custom_components.iot_hub.const import CONF_CLIENT_ID

from .broker import Mosquitto
from .certs import Pki
from .conftest import broker_data
from .helpers import CLI_TIMEOUT, DOMAIN, setup_entry, wait_for_value

DEVICES = 100
READINGS = 10  # per device while Home Assistant is down: 1,000 in all
COLD = 0  # this device stays below the temperature rule's 5 °C: its incident stays open
COLD_PROBLEM = "binary_sensor.node_000_incident"
SENTINEL = "sensor.sentinel_temperature"
QUEUE_LIMIT = 50  # max_queued_messages of the small-queue broker
EVENT = "iot_hub_incident"
DROPPING = "Outgoing messages are being dropped for client"
LOG_POLL_INTERVAL = 0.01
LOG_POLLS = int(CLI_TIMEOUT / LOG_POLL_INTERVAL)


def device(index: int) -> str:
    """Device id of the fleet's `index`th device."""
    return f"node_{index:03d}"


def temperature_entity(index: int) -> str:
    """Entity id of a device's temperature sensor."""
    return f"sensor.{device(index)}_temperature"


def temperature(index: int, n: int) -> float:
    """The device's `n`th reading (0: before the restart); every one differs from the others."""
    base = 3.0 if index == COLD else 10.0 + index % 20
    return round(base + n / 10, 1)


def reading(index: int, n: int) -> tuple[str, bytes]:
    """Topic and payload of the device's `n`th reading (IoT platform layout)."""
    return f"iot/sensors/{device(index)}/data", orjson.dumps({"temperature": temperature(index, n)})


def rounds(devices: Sequence[int], first: int, last: int) -> list[tuple[str, bytes]]:
    """Readings `first`..`last` of every device, a round of the whole fleet at a time."""
    return [reading(index, n) for n in range(first, last + 1) for index in devices]


# ---------------------------------------------------------------- the devices' side


def _publish_blocking(broker: Mosquitto, messages: Sequence[tuple[str, bytes]]) -> None:
    """Publish each message with QoS 1 and wait for its PUBACK (paho blocks: a thread)."""
    client = PahoClient(CallbackAPIVersion.VERSION2, client_id="fleet", protocol=MQTTv311)
    client.username_pw_set(broker.username, broker.password)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(broker.host, broker.port_password)
    client.loop_start()
    try:
        assert connected.wait(CLI_TIMEOUT), "the fleet's publisher never got its CONNACK"
        for topic, payload in messages:
            info = client.publish(topic, payload, qos=1)
            info.wait_for_publish(CLI_TIMEOUT)
            assert info.is_published(), f"no PUBACK for {topic}"
    finally:
        client.disconnect()
        client.loop_stop()


async def publish(broker: Mosquitto, messages: Sequence[tuple[str, bytes]]) -> None:
    """Publish like the fleet does: QoS 1, one PUBACK awaited after another."""
    await asyncio.to_thread(_publish_blocking, broker, messages)


def _wait_for_log_blocking(broker: Mosquitto, predicate: Callable[[str], bool], what: str) -> str:
    for _ in range(LOG_POLLS):
        if predicate(log := broker.log()):
            return log
        time.sleep(LOG_POLL_INTERVAL)
    raise AssertionError(f"the broker never logged {what}")


async def wait_for_broker(broker: Mosquitto, predicate: Callable[[str], bool], what: str) -> str:
    """Return the broker's log once `predicate` holds on it (the log lags behind the wire).

    Polled in a thread, a bounded number of times: with the clock frozen (`freezer`),
    asyncio's timers, hence `asyncio.sleep` and `asyncio.timeout`, never fire.
    """
    return await asyncio.to_thread(_wait_for_log_blocking, broker, predicate, what)


async def wait_until_acknowledged(broker: Mosquitto, client_id: str, count: int) -> None:
    """Wait until the client has acknowledged `count` messages and has none in flight."""
    sent, acked = f"Sending PUBLISH to {client_id} ", f"Received PUBACK from {client_id} "
    await wait_for_broker(
        broker,
        lambda log: log.count(sent) == log.count(acked) == count,
        f"{count} messages sent to {client_id}, all acknowledged",
    )


async def wait_until_disconnected(broker: Mosquitto, client_id: str) -> str:
    """Return the broker's log once it has seen the client disconnect."""
    line = f"Client {client_id} disconnected."
    return await wait_for_broker(broker, lambda log: line in log, repr(line))


# ---------------------------------------------------------------- the restart


@dataclass(frozen=True)
class Stopped:
    """What a stopped Home Assistant leaves on disk that the test harness does not keep."""

    config_dir: str
    entry: MockConfigEntry
    devices: list[dr.DeviceEntry]
    entities: list[er.RegistryEntry]


async def stop(
    hass: HomeAssistant, hass_storage: dict[str, Any], entry: MockConfigEntry
) -> Stopped:
    """Stop Home Assistant; keep its registries and the restore states it writes at stop."""
    states = [stored.as_dict() for stored in rs.async_get(hass).async_get_stored_states()]
    hass_storage[rs.STORAGE_KEY] = {
        "version": rs.STORAGE_VERSION,
        "minor_version": 1,
        "key": rs.STORAGE_KEY,
        "data": json_loads(json_dumps(states)),
    }
    stopped = Stopped(
        hass.config.config_dir,
        entry,
        dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id),
        er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id),
    )
    await hass.async_stop()
    return stopped


@contextlib.asynccontextmanager
async def start_again(stopped: Stopped) -> AsyncIterator[tuple[HomeAssistant, MockConfigEntry]]:
    """Start a new Home Assistant on the same storage; its entry is added, not yet set up."""
    old = stopped.entry
    async with async_test_home_assistant(config_dir=stopped.config_dir) as hass:
        try:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
            await rs.async_get(hass).async_load()
            entry = MockConfigEntry(
                domain=DOMAIN,
                entry_id=old.entry_id,
                title=old.title,
                data=dict(old.data),
                options=dict(old.options),
                version=old.version,
                minor_version=old.minor_version,
                subentries_data=[
                    {
                        "data": dict(sub.data),
                        "subentry_id": sub.subentry_id,
                        "subentry_type": sub.subentry_type,
                        "title": sub.title,
                        "unique_id": sub.unique_id,
                    }
                    for sub in old.subentries.values()
                ],
            )
            entry.add_to_hass(hass)
            _copy_registries(hass, entry, stopped)
            yield hass, entry
        finally:
            await hass.async_stop()


def _copy_registries(hass: HomeAssistant, entry: MockConfigEntry, stopped: Stopped) -> None:
    """Register the entry's devices and entities again, under the same entity ids."""
    devices = dr.async_get(hass)
    device_ids = {
        old.id: devices.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers=old.identifiers,
            manufacturer=old.manufacturer,
            model=old.model,
            name=old.name,
            sw_version=old.sw_version,
        ).id
        for old in stopped.devices
    }
    entities = er.async_get(hass)
    for old in stopped.entities:
        new = entities.async_get_or_create(
            old.domain,
            old.platform,
            old.unique_id,
            suggested_object_id=old.entity_id.split(".", 1)[1],
            disabled_by=old.disabled_by,
            hidden_by=old.hidden_by,
            config_entry=entry,
            device_id=device_ids.get(old.device_id or ""),
        )
        assert new.entity_id == old.entity_id


def record(hass: HomeAssistant, entity_ids: Sequence[str]) -> dict[str, list[str]]:
    """Return lists that collect every state each entity takes from now on."""
    seen: dict[str, list[str]] = {entity_id: [] for entity_id in entity_ids}

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            seen[event.data["entity_id"]].append(new.state)

    async_track_state_change_event(hass, list(entity_ids), changed)
    return seen


async def drain(hass: HomeAssistant, broker: Mosquitto) -> None:
    """Publish one more reading and wait for it: the session's queue is behind it."""
    await publish(broker, [("iot/sensors/sentinel/data", b'{"temperature": 20}')])
    await wait_for_value(hass, SENTINEL, "20.0")


def errors_of_ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Messages our loggers wrote at ERROR or above."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.name.startswith("custom_components.iot_hub")
    ]


# ---------------------------------------------------------------- the tests


# The clock is frozen (`freezer`): asyncio's timeouts never fire, pytest-timeout bounds the test.
@pytest.mark.slow
@pytest.mark.timeout(30)
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_1000_readings_published_while_stopped_all_arrive_after_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    protocol: str,
) -> None:
    entry = make_entry(protocol=protocol)
    client_id = entry.data[CONF_CLIENT_ID]
    fleet = range(DEVICES)
    sensors = [temperature_entity(index) for index in fleet]
    opened = async_capture_events(hass, EVENT)
    await setup_entry(hass, entry)
    # 100 devices known; the cold one for longer than the rule's minute: an incident opens.
    await publish(mosquitto, rounds(fleet, 0, 0))
    for index in fleet:
        await wait_for_value(hass, sensors[index], str(temperature(index, 0)))
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    incident_id = (await wait_for_value(hass, COLD_PROBLEM, "on")).attributes["incident_id"]
    assert [event.data["phase"] for event in opened] == ["opened"]
    # Nothing left in flight for us (the readings and the echo of our incident publication).
    await wait_until_acknowledged(mosquitto, client_id, DEVICES + 1)

    stopped = await stop(hass, hass_storage, entry)
    offline_from = len(await wait_until_disconnected(mosquitto, client_id))
    # While no IoT Hub client is connected, every device reports ten times.
    await publish(mosquitto, rounds(fleet, 1, READINGS))
    while_down = mosquitto.log()[offline_from:]
    assert f" as {client_id} " not in while_down
    assert DROPPING not in while_down

    async with start_again(stopped) as (hass2, entry2):
        events = async_capture_events(hass2, EVENT)
        seen = record(hass2, sensors)
        await setup_entry(hass2, entry2)
        await drain(hass2, mosquitto)
        # Every device: its restored state first, then its ten readings, in order.
        for index in fleet:
            expected = [str(temperature(index, n)) for n in range(READINGS + 1)]
            assert seen[sensors[index]] == expected, device(index)
            assert hass2.states.get(sensors[index]).state == expected[-1]
        runtime: BrokerRuntime = entry2.runtime_data
        assert runtime.client.stats.messages_received == DEVICES * READINGS + 1
        assert runtime.early_dropped == 0
        # The incident is still open, the same one, announced neither on the bus nor over MQTT.
        problem = hass2.states.get(COLD_PROBLEM)
        assert (problem.state, problem.attributes.get("incident_id")) == ("on", incident_id)
        # Not even once the rule's minute has passed again.
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass2)
        await hass2.async_block_till_done()
        assert events == []
        assert f"Received PUBLISH from {client_id} " not in mosquitto.log()[offline_from:]
    assert DROPPING not in mosquitto.log()
    assert errors_of_ours(caplog) == []


class SmallQueueMosquitto(Mosquitto):
    """The test broker, keeping at most `QUEUE_LIMIT` messages for a disconnected session."""

    def _write_config(self) -> None:
        super()._write_config()
        with self.config_path.open("a") as config:
            config.write(f"\nmax_queued_messages {QUEUE_LIMIT}\n")


@pytest.fixture
def small_queue(socket_enabled: None, pki: Pki, tmp_path: Path) -> Iterator[Mosquitto]:
    """A running small-queue broker, killed after the test whatever its outcome."""
    broker = SmallQueueMosquitto(pki, tmp_path / "mosquitto-small-queue")
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()


@pytest.mark.slow
@pytest.mark.timeout(30)
async def test_beyond_the_broker_queue_limit_the_newest_readings_are_lost(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    small_queue: Mosquitto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{small_queue.host}:{small_queue.port_password}",
        data=broker_data(small_queue),
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    client_id = entry.data[CONF_CLIENT_ID]
    fleet = range(1, 6)
    sensors = {index: temperature_entity(index) for index in fleet}
    await setup_entry(hass, entry)
    await publish(small_queue, rounds(fleet, 0, 0))
    for index in fleet:
        await wait_for_value(hass, sensors[index], str(temperature(index, 0)))
    await wait_until_acknowledged(small_queue, client_id, len(fleet))

    stopped = await stop(hass, hass_storage, entry)
    await wait_until_disconnected(small_queue, client_id)
    # Twelve rounds of five devices while it is down: 60 readings for a queue of 50.
    await publish(small_queue, rounds(fleet, 1, 12))
    assert f"{DROPPING} {client_id}." in small_queue.log()

    async with start_again(stopped) as (hass2, entry2):
        seen = record(hass2, list(sensors.values()))
        await setup_entry(hass2, entry2)
        await drain(hass2, small_queue)
        # The first 50 published arrive, in order; the newest 10 (rounds 11 and 12) are lost:
        # each device ends on its tenth reading, not its last.
        kept = QUEUE_LIMIT // len(fleet)
        for index, sensor in sensors.items():
            assert seen[sensor] == [str(temperature(index, n)) for n in range(kept + 1)], index
        assert entry2.runtime_data.client.stats.messages_received == QUEUE_LIMIT + 1
    assert errors_of_ours(caplog) == []
