"""Seed 001/002 devices through the real broker: events, fleets, health, commands."""

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.iot_hub.diagnostics import async_get_config_entry_diagnostics

from .broker import Mosquitto
from .helpers import wait_for_value
from .test_broker_fixture import live_subscriber

# Seed 001, "Test 1", verbatim (multi-line, as the user types it).
SEED_001_MOTION = """{
    "event_id": "test-123",
    "device_id": "raspberry-1",
    "source": "sensor-motion",
    "type": "MOTION_DETECTED",
    "data": {"presence": true},
    "timestamp": 1234567890
  }"""
SEED_001_PRESSURE = (
    '{"event_id": "p-1", "device_id": "raspberry-1", "source": "sensor-pressure",'
    ' "type": "PRESSURE_DETECTED", "data": {"pressure": "high", "duration_ms": 500},'
    ' "timestamp": 1734567890.123}'
)
# Seed 002: the ESP32 sketch's flat payload and the Raspberry Pi's nested one.
SEED_002_ESP32 = '{"device_id":"ESP32_001","temperature":23.5,"humidity":48.2,"timestamp":61234}'
SEED_002_RPI = (
    '{"device_id": "RPI_001", "sensors": {"temperature": 21.0, "humidity": 55.0},'
    ' "timestamp": 1734567890}'
)

MOTION = "binary_sensor.raspberry_1_motion"
OCCUPANCY = "binary_sensor.raspberry_1_occupancy"
ESP_TEMP = "sensor.esp32_001_temperature"
ESP_CONN = "binary_sensor.esp32_001_connectivity"


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _hub_sensor(port: int, name: str) -> str:
    return f"sensor.iot_hub_127_0_0_1_{port}_{name}"


async def test_seed_001_motion_event(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"event_off_delay": 1})
    await _setup(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    state = await wait_for_value(hass, MOTION, "on")
    assert state.attributes["device_class"] == "motion"
    assert state.attributes["event_id"] == "test-123"
    assert state.attributes["source"] == "sensor-motion"
    # The device's clock is kept as an attribute; the state uses receive time.
    assert state.attributes["device_time"] == "2009-02-13T23:31:30+00:00"
    assert state.last_changed.year >= 2026
    device = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_raspberry-1"), entry.entry_id
    )
    assert device is not None
    assert device.name == "raspberry-1"
    # A momentary event turns off by itself after the configured delay.
    await wait_for_value(hass, MOTION, "off")


async def test_presence_false_turns_motion_off(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    await _setup(hass, make_entry())
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
    await _setup(hass, make_entry())
    await mosquitto.publish("sensor/pressure", SEED_001_PRESSURE)
    state = await wait_for_value(hass, OCCUPANCY, "on")
    assert state.attributes["device_class"] == "occupancy"
    assert state.attributes["duration_ms"] == 500
    assert state.attributes["pressure"] == "high"


async def test_duplicate_event_ids_count_once(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    changes: list[str] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == MOTION and (new := event.data["new_state"]):
            changes.append(new.state)

    hass.bus.async_listen("state_changed", record)
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
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["runtime"]["rejections"] == {"duplicate": 2, "unknown_event_type": 1}
    rejected = hass.states.get(_hub_sensor(mosquitto.port_password, "rejected_messages"))
    assert rejected is not None
    assert rejected.state == "3"
    assert rejected.attributes["duplicate"] == 2


async def test_seed_002_devices_appear_with_model(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await mosquitto.publish("iot/sensors/RPI_001/data", SEED_002_RPI)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await wait_for_value(hass, "sensor.esp32_001_humidity", "48.2")
    await wait_for_value(hass, "sensor.rpi_001_temperature", "21.0")
    await wait_for_value(hass, ESP_CONN, "on")
    esp = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_ESP32_001"), entry.entry_id
    )
    rpi = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_RPI_001"), entry.entry_id
    )
    assert esp is not None
    assert rpi is not None
    assert (esp.model, esp.manufacturer) == ("ESP32", "Espressif")
    assert rpi.model == "Raspberry Pi"
    port = mosquitto.port_password
    await wait_for_value(hass, _hub_sensor(port, "devices"), "2")
    await wait_for_value(hass, _hub_sensor(port, "devices_online"), "2")


async def test_the_states_of_one_message_share_its_context(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    """Automations and the logbook see one cause per message; each message its own."""
    await _setup(hass, make_entry())
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, "sensor.esp32_001_humidity", "48.2")
    contexts = []
    for temperature, humidity in ((24.0, 50.0), (25.0, 51.0)):
        await mosquitto.publish(
            "iot/sensors/ESP32_001/data",
            f'{{"device_id":"ESP32_001","temperature":{temperature},"humidity":{humidity}}}',
        )
        temp = await wait_for_value(hass, ESP_TEMP, str(temperature))
        hum = await wait_for_value(hass, "sensor.esp32_001_humidity", str(humidity))
        assert temp.context.id == hum.context.id
        contexts.append(temp.context.id)
    assert contexts[0] != contexts[1]


async def test_status_topic_and_health_values(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await mosquitto.publish(
        "iot/devices/ESP32_001/status",
        '{"status": "online", "battery": 87, "firmware": "1.4.2"}',
    )
    await wait_for_value(hass, "sensor.esp32_001_battery", "87.0")
    await wait_for_value(hass, "sensor.esp32_001_firmware", "1.4.2")
    device = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_ESP32_001"), entry.entry_id
    )
    assert device is not None
    assert device.sw_version == "1.4.2"
    # Plain-text status, as many firmwares send it.
    await mosquitto.publish("iot/devices/ESP32_001/status", "offline")
    await wait_for_value(hass, ESP_CONN, "off")
    await wait_for_value(hass, ESP_TEMP, STATE_UNAVAILABLE)
    port = mosquitto.port_password
    await wait_for_value(hass, _hub_sensor(port, "devices_offline"), "1")
    await mosquitto.publish("iot/devices/ESP32_001/status", '{"status": "online"}')
    await wait_for_value(hass, ESP_TEMP, "23.5")


async def test_silent_device_goes_offline(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    await _setup(hass, make_entry(options={"offline_timeout": 10}))
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_CONN, "on")
    freezer.tick(timedelta(minutes=11))
    async_fire_time_changed(hass)
    await wait_for_value(hass, ESP_CONN, "off")
    await wait_for_value(hass, ESP_TEMP, STATE_UNAVAILABLE)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_CONN, "on")
    await wait_for_value(hass, ESP_TEMP, "23.5")


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (
            "iot/sensors/ESP32_001/data",
            '{"device_id": "ESP32_999", "temperature": 20}',
            "device_id_mismatch",
        ),
        ("iot/sensors/ESP32_001/data", '{"temperature": 1e999}', "invalid_json"),
        ("iot/devices/ESP32_001/status", "rebooting", "unknown_status"),
        ("sensor/motion", '{"event_id": "a", "device_id": "x", "type": ["MOTION"]}', "wrong_type"),
        ("dht11/sensor/data", '{"temperature": 70, "humidity": 50}', "out_of_range"),
    ],
)
async def test_bad_input_is_quarantined(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
    topic: str,
    payload: str,
    reason: str,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish(topic, payload)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["runtime"]["rejections"] == {reason: 1}
    assert diag["runtime"]["rejected_samples"][0]["topic"] == topic


async def test_oversized_payload_rejected_before_parsing(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("iot/sensors/ESP32_001/data", b"{" + b" " * (1024 * 1024) + b"}")
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["runtime"]["rejections"] == {"too_large": 1}
    # The sample kept for diagnostics is capped.
    assert len(diag["runtime"]["rejected_samples"][0]["payload"]) <= 256


async def test_alerts_are_counted_for_now(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish(
        "iot/alerts/ESP32_001", '{"level": "critical", "message": "Temperature high"}'
    )
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["runtime"]["alerts_received"] == 1
    assert diag["runtime"]["alerts"][0]["level"] == "critical"


async def test_states_survive_reload(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry(options={"clean_session": True, "event_off_delay": 600})
    await _setup(hass, entry)
    await mosquitto.publish("sensor/pressure", SEED_001_PRESSURE)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, OCCUPANCY, "on")
    await wait_for_value(hass, ESP_TEMP, "23.5")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(ESP_TEMP).state == "23.5"
    occupancy = hass.states.get(OCCUPANCY)
    # Still inside its off delay: on, with the event's attributes...
    assert occupancy.state == "on"
    assert occupancy.attributes["duration_ms"] == 500
    port = mosquitto.port_password
    assert hass.states.get(_hub_sensor(port, "devices")).state == "2"
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
    await _setup(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    await wait_for_value(hass, MOTION, "on")
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Home Assistant was down longer than the off delay: no timer fired meanwhile.
    freezer.tick(timedelta(seconds=45))
    await _setup(hass, entry)
    motion = hass.states.get(MOTION)
    assert motion.state == "off"
    assert motion.attributes["event_id"] == "test-123"


async def test_send_command(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    device = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_ESP32_001"), entry.entry_id
    )
    assert device is not None
    async with live_subscriber(mosquitto, "iot/devices/ESP32_001/commands") as stdout:
        await hass.services.async_call(
            "iot_hub",
            "send_command",
            {"device_id": device.id, "payload": {"action": "reboot", "delay": 5}},
            blocking=True,
        )
        received = bytes.fromhex((await stdout.read()).decode().strip())
    assert received == b'{"action":"reboot","delay":5}'


async def _call(hass: HomeAssistant, device_id: str) -> None:
    await hass.services.async_call(
        "iot_hub", "send_command", {"device_id": device_id, "payload": {"a": 1}}, blocking=True
    )


async def test_send_command_refusals(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    bad = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("iot_hub", f"{entry.entry_id}_a/#")}
    )
    hub_device = device_registry.async_get_device_by_identifier(
        ("iot_hub", entry.entry_id), entry.entry_id
    )
    assert hub_device is not None
    cases: list[tuple[str, str]] = [
        (bad.id, "invalid_device_id"),
        (hub_device.id, "device_not_found"),
        ("no-such-device", "device_not_found"),
    ]
    for device_id, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, device_id)
        assert err.value.translation_key == key
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, bad.id)
    assert err.value.translation_key == "entry_not_loaded"


async def test_iot_family_off_refuses_commands(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"iot_enabled": False})
    await _setup(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    await wait_for_value(hass, MOTION, "on")
    device = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_raspberry-1"), entry.entry_id
    )
    assert device is not None
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, device.id)
    assert err.value.translation_key == "commands_disabled"


async def test_rejected_samples_redact_secrets_and_logs_repeat_hourly(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    bad = '{"device_id": "ESP32_001", "temperature": "hot", "wifi_password": "hunter2"}'
    for _ in range(2):
        await mosquitto.publish("iot/sensors/ESP32_001/data", bad)
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    freezer.tick(timedelta(minutes=61))
    await mosquitto.publish("iot/sensors/ESP32_001/data", bad)
    await mosquitto.publish(
        "iot/sensors/ESP32_001/data", '{"temperature": 24.5, "timestamp": "2025-01-20T10:30:00Z"}'
    )
    await wait_for_value(hass, ESP_TEMP, "24.5")
    # (The HTTP diagnostics token expired with the clock jump: read them directly.)
    diag = (await async_get_config_entry_diagnostics(hass, entry))["runtime"]
    assert "hunter2" not in str(diag)
    assert diag["rejected_samples"][0]["payload"].count("**REDACTED**") == 1
    assert diag["devices"]["ESP32_001"]["device_time"] == "2025-01-20T10:30:00+00:00"
    logged = [r.getMessage() for r in caplog.records if "Ignored a message" in r.getMessage()]
    assert len(logged) == 2
    assert "1 more since the last report" in logged[1]


async def test_status_keeps_the_device_clock(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish(
        "iot/devices/ESP32_001/status",
        '{"status": "online", "battery": 80, "timestamp": "2025-01-20T10:30:00Z"}',
    )
    await wait_for_value(hass, "sensor.esp32_001_battery", "80.0")
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["runtime"]["devices"]["ESP32_001"]["device_time"] == "2025-01-20T10:30:00+00:00"
