"""Binary sensors: motion and occupancy events and device connectivity."""

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .broker import Mosquitto
from .helpers import (
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    ESP32_TOPIC,
    ESP_CONN,
    ESP_TEMP,
    MOTION,
    OCCUPANCY,
    SEED_001_MOTION,
    SEED_001_PRESSURE,
    SEED_002_ESP32,
    device_of,
    hub_sensor,
    record_states,
    setup_entry,
    wait_for_value,
)


async def test_seed_001_motion_event(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"event_off_delay": 1})
    await setup_entry(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    state = await wait_for_value(hass, MOTION, "on")
    assert state.attributes["device_class"] == "motion"
    assert state.attributes["event_id"] == "test-123"
    assert state.attributes["source"] == "sensor-motion"
    # The device's clock is kept as an attribute; the state uses receive time.
    assert state.attributes["device_time"] == "2009-02-13T23:31:30+00:00"
    assert state.last_changed.year >= 2026
    assert device_of(device_registry, entry, "raspberry-1").name == "raspberry-1"
    # A momentary event turns off by itself after the configured delay.
    await wait_for_value(hass, MOTION, "off")


async def test_presence_false_turns_motion_off(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    await setup_entry(hass, make_entry())
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    await wait_for_value(hass, MOTION, "on")
    await mosquitto.publish(
        "sensor/motion",
        '{"event_id": "e2", "device_id": "raspberry-1", "type": "MOTION_DETECTED",'
        ' "data": {"presence": false}, "timestamp": 1234567899}',
    )
    await wait_for_value(hass, MOTION, "off")


async def test_seed_001_pressure_mat(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    await setup_entry(hass, make_entry())
    await mosquitto.publish("sensor/pressure", SEED_001_PRESSURE)
    state = await wait_for_value(hass, OCCUPANCY, "on")
    assert state.attributes["device_class"] == "occupancy"
    assert state.attributes["duration_ms"] == 500
    assert state.attributes["pressure"] == "high"


async def test_duplicate_event_ids_count_once(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    await setup_entry(hass, make_entry())
    changes = record_states(hass, MOTION)
    for _ in range(3):
        await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    # An unknown type and then a good event after the duplicates: all processed.
    await mosquitto.publish(
        "sensor/motion",
        '{"event_id": "x", "device_id": "raspberry-1", "type": "DOOR_OPENED", "timestamp": 1}',
    )
    await mosquitto.publish("sensor/pressure", SEED_001_PRESSURE)
    await wait_for_value(hass, OCCUPANCY, "on")
    assert changes == ["on"]
    rejected = hass.states.get(hub_sensor(mosquitto, "rejected_messages"))
    assert rejected is not None
    assert rejected.state == "3"
    assert rejected.attributes["duplicate"] == 2
    assert rejected.attributes["unknown_event_type"] == 1


async def test_dht11_status_topic_drives_connectivity(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    """Seed 000's `dht11/status` topic: `{"status": "offline"}` greys the readings out."""
    await setup_entry(hass, make_entry())
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, "binary_sensor.dht11_connectivity", "on")
    await mosquitto.publish("dht11/status", '{"status": "offline"}')
    await wait_for_value(hass, "binary_sensor.dht11_connectivity", "off")
    await wait_for_value(hass, DHT11_TEMP, STATE_UNAVAILABLE)
    await mosquitto.publish("dht11/status", "online")
    await wait_for_value(hass, DHT11_TEMP, "25.0")


async def test_silent_device_goes_offline(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, make_entry(options={"offline_timeout": 10}))
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_CONN, "on")
    freezer.tick(timedelta(minutes=11))
    async_fire_time_changed(hass)
    await wait_for_value(hass, ESP_CONN, "off")
    await wait_for_value(hass, ESP_TEMP, STATE_UNAVAILABLE)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_CONN, "on")
    await wait_for_value(hass, ESP_TEMP, "23.5")


async def test_states_survive_reload(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry(options={"clean_session": True, "event_off_delay": 600})
    await setup_entry(hass, entry)
    await mosquitto.publish("sensor/pressure", SEED_001_PRESSURE)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, OCCUPANCY, "on")
    await wait_for_value(hass, ESP_TEMP, "23.5")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(ESP_TEMP).state == "23.5"
    occupancy = hass.states.get(OCCUPANCY)
    # Still inside its off delay: on, with the event's attributes...
    assert occupancy.state == "on"
    assert occupancy.attributes["duration_ms"] == 500
    assert hass.states.get(hub_sensor(mosquitto, "devices")).state == "2"
    # ...and it turns off when the delay ends (the timer was re-armed).
    freezer.tick(timedelta(seconds=601))
    async_fire_time_changed(hass)
    await wait_for_value(hass, OCCUPANCY, "off")


async def test_motion_on_before_reload_is_off_once_its_delay_passed(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry(options={"clean_session": True, "event_off_delay": 30})
    await setup_entry(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    await wait_for_value(hass, MOTION, "on")
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Home Assistant was down longer than the off delay: no timer fired meanwhile.
    freezer.tick(timedelta(seconds=45))
    await setup_entry(hass, entry)
    motion = hass.states.get(MOTION)
    assert motion.state == "off"
    assert motion.attributes["event_id"] == "test-123"
