"""System health: what Settings → System → Repairs → System information shows for IoT Hub."""

from collections.abc import Callable, Iterator
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    get_system_health_info,
)

from custom_components.iot_hub import system_health
from custom_components.iot_hub.system_health import INFO_KEYS

from .broker import Mosquitto
from .conftest import broker_data
from .helpers import (
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    ESP32_TOPIC,
    ESP_TEMP,
    SEED_002_ESP32,
    broker_connection,
    device_of,
    setup_entry,
    wait_for_value,
)
from .thermomaven.conftest import cloud, make_account_entry, thermomaven_cloud
from .thermomaven.test_setup import started
from .thermomaven_cloud.cloud import FakeThermoMavenCloud

# The ThermoMaven fixtures, for the account test below.
__all__ = ["cloud", "make_account_entry", "thermomaven_cloud"]

EN = Path(__file__).resolve().parents[1] / "custom_components/iot_hub/translations/en.json"


class Clock:
    """The monotonic clock system health reads, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    with patch.object(system_health, "monotonic", fake):
        yield fake


@pytest.fixture
async def health(hass: HomeAssistant) -> None:
    assert await async_setup_component(hass, "system_health", {})


async def info(hass: HomeAssistant) -> dict[str, Any]:
    return await get_system_health_info(hass, "iot_hub")


async def test_broker_entry(
    hass: HomeAssistant,
    health: None,
    clock: Clock,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
) -> None:
    """Connection, devices and messages of the broker; its rate from the second look on."""
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await wait_for_value(hass, DHT11_TEMP, "25.0")

    first = await info(hass)
    name = f"{mosquitto.host}:{mosquitto.port_password}"
    assert first == {
        "brokers": name,
        "broker_connected": True,
        "devices_known": 2,
        "devices_online": 2,
        "messages_received": 2,
    }
    # Nothing secret: the entry's credentials are not there.
    text = json.dumps(first)
    assert mosquitto.username not in text
    assert mosquitto.password not in text

    # A minute later, after three more readings: three messages per minute.
    clock.now += 60
    for temperature in (21, 22, 23):
        await mosquitto.publish(DHT11_TOPIC, f'{{"temperature":{temperature}}}')
    await wait_for_value(hass, DHT11_TEMP, "23.0")
    second = await info(hass)
    assert second["messages_received"] == 5
    assert second["messages_per_minute"] == 3

    # Two minutes after that, nothing new: the rate falls to zero.
    clock.now += 120
    assert (await info(hass))["messages_per_minute"] == 0


async def test_rate_over_the_last_minute_and_after_a_reload(
    hass: HomeAssistant,
    health: None,
    clock: Clock,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
) -> None:
    """Looks within the minute keep the minute-old sample; a reload starts over."""
    entry = make_entry()
    await setup_entry(hass, entry)
    await info(hass)  # t = 0, nothing received
    clock.now += 5
    assert "messages_per_minute" not in await info(hass)  # 5 s is too short to tell
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    clock.now += 25
    # 30 s since the first look, one message: two per minute.
    assert (await info(hass))["messages_per_minute"] == 2
    clock.now += 40
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":26}')
    await wait_for_value(hass, DHT11_TEMP, "26.0")
    # 70 s: counted from the newest look at least a minute old (t = 5 s, 0 received).
    assert (await info(hass))["messages_per_minute"] == 2

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    clock.now += 60
    reloaded = await info(hass)
    assert reloaded["messages_received"] == 0
    assert "messages_per_minute" not in reloaded


async def test_broker_down(
    hass: HomeAssistant,
    health: None,
    clock: Clock,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    mosquitto.stop()
    await wait_for_value(hass, broker_connection(mosquitto), "off")
    assert (await info(hass))["broker_connected"] is False


async def test_two_brokers_one_line_each(
    hass: HomeAssistant,
    health: None,
    clock: Clock,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
) -> None:
    """Several entries: each line says "name: value" per entry, sorted by name."""
    await setup_entry(hass, make_entry())
    other = MockConfigEntry(
        domain="iot_hub",
        title="Garage",
        data=broker_data(mosquitto, client_id="iot_hub-garage"),
        version=1,
        minor_version=1,
    )
    other.add_to_hass(hass)
    await setup_entry(hass, other)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    # The second entry's DHT11 entities (the same object id, suffixed).
    await wait_for_value(hass, f"{DHT11_TEMP}_2", "25.0")
    main = f"{mosquitto.host}:{mosquitto.port_password}"
    found = await info(hass)
    assert found["brokers"] == f"{main}, Garage"
    assert found["broker_connected"] == f"{main}: yes; Garage: yes"
    # The DHT11 publishes on both: each entry knows it.
    assert found["devices_known"] == f"{main}: 1; Garage: 1"
    assert "thermomaven_accounts" not in found

    # Garage unloaded: back to plain values, of the one entry left.
    assert await hass.config_entries.async_unload(other.entry_id)
    found = await info(hass)
    assert found["brokers"] == main
    assert found["devices_known"] == 1


async def test_thermomaven_account(
    hass: HomeAssistant,
    health: None,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The account by its shortened email: cloud connection, thermometers and probes."""
    entry = await started(hass, make_account_entry, cloud)
    account = device_of(device_registry, entry)
    devices = [
        device
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        if device.id != account.id
    ]
    # The probes are sub-devices of their thermometer.
    thermometers = [d for d in devices if d.via_device_id not in {x.id for x in devices}]
    probes = [
        item
        for item in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if item.domain == "climate"
    ]
    found = await info(hass)
    assert found == {
        "thermomaven_accounts": "u…@example.com",
        "cloud_connected": True,
        "thermometers": len(thermometers),
        "probes": len(probes),
    }
    assert len(thermometers) == 3
    assert len(probes) == 6  # G4: 4, G1: 1, P1: 1
    assert cloud.email not in json.dumps(found)


def test_every_line_is_translated() -> None:
    """Each key has its label in en.json (system_health.info); fr/es follow test_translations."""
    labels = json.loads(EN.read_text(encoding="utf-8")).get("system_health", {}).get("info", {})
    assert sorted(labels) == sorted(INFO_KEYS)
