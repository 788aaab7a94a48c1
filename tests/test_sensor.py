"""Sensors: what devices measure and report about their health, and the hub's device counts."""

from collections.abc import Callable

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .broker import Mosquitto
from .helpers import (
    DHT11_HUM,
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    ESP32_TOPIC,
    ESP_CONN,
    ESP_HUM,
    ESP_TEMP,
    SEED_002_ESP32,
    SEED_002_RPI,
    device_of,
    hub_sensor,
    setup_entry,
    wait_for_state,
    wait_for_value,
)

ESP_STATUS = "iot/devices/ESP32_001/status"
ESP_BATTERY = "sensor.esp32_001_battery"
ESP_LAST_SEEN = "sensor.esp32_001_last_seen"


async def test_seed_dht11_message_creates_device_and_sensors(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    assert hass.states.get(DHT11_TEMP) is None  # nothing published yet

    # The seed's own command.
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    temp = await wait_for_value(hass, DHT11_TEMP, "25.0")
    hum = await wait_for_value(hass, DHT11_HUM, "60.0")
    assert temp.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"
    assert temp.attributes["device_class"] == "temperature"
    assert temp.attributes["state_class"] == "measurement"
    assert hum.attributes[ATTR_UNIT_OF_MEASUREMENT] == "%"
    assert hum.attributes["device_class"] == "humidity"

    reg = entity_registry.async_get(DHT11_TEMP)
    assert reg is not None
    assert reg.unique_id == f"{entry.entry_id}_dht11_temperature"
    device = device_registry.async_get(reg.device_id or "")
    assert device is not None
    assert device.model == "DHT11"
    assert device.via_device_id == device_of(device_registry, entry).id


async def test_states_restored_after_reload(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":23.4,"humidity":51}')
    await wait_for_value(hass, DHT11_TEMP, "23.4")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # Nothing was published since: the last values come back, not "unknown".
    assert hass.states.get(DHT11_TEMP).state == "23.4"
    assert hass.states.get(DHT11_HUM).state == "51.0"
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":23.9}')
    await wait_for_value(hass, DHT11_TEMP, "23.9")
    assert hass.states.get(DHT11_HUM).state == "51.0"


async def test_seed_002_devices_appear_with_model(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await mosquitto.publish("iot/sensors/RPI_001/data", SEED_002_RPI)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await wait_for_value(hass, ESP_HUM, "48.2")
    await wait_for_value(hass, "sensor.rpi_001_temperature", "21.0")
    await wait_for_value(hass, ESP_CONN, "on")
    esp = device_of(device_registry, entry, "ESP32_001")
    rpi = device_of(device_registry, entry, "RPI_001")
    assert (esp.model, esp.manufacturer) == ("ESP32", "Espressif")
    assert rpi.model == "Raspberry Pi"
    await wait_for_value(hass, hub_sensor(mosquitto, "devices"), "2")
    await wait_for_value(hass, hub_sensor(mosquitto, "devices_online"), "2")


async def test_the_states_of_one_message_share_its_context(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    """Automations and the logbook see one cause per message; each message its own."""
    await setup_entry(hass, make_entry())
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_HUM, "48.2")
    contexts = []
    for temperature, humidity in ((24.0, 50.0), (25.0, 51.0)):
        await mosquitto.publish(
            ESP32_TOPIC,
            f'{{"device_id":"ESP32_001","temperature":{temperature},"humidity":{humidity}}}',
        )
        temp = await wait_for_value(hass, ESP_TEMP, str(temperature))
        hum = await wait_for_value(hass, ESP_HUM, str(humidity))
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
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await mosquitto.publish(ESP_STATUS, '{"status": "online", "battery": 87, "firmware": "1.4.2"}')
    await wait_for_value(hass, ESP_BATTERY, "87.0")
    await wait_for_value(hass, "sensor.esp32_001_firmware", "1.4.2")
    assert device_of(device_registry, entry, "ESP32_001").sw_version == "1.4.2"
    # Plain-text status, as many firmwares send it.
    await mosquitto.publish(ESP_STATUS, "offline")
    await wait_for_value(hass, ESP_CONN, "off")
    await wait_for_value(hass, ESP_TEMP, STATE_UNAVAILABLE)
    await wait_for_value(hass, hub_sensor(mosquitto, "devices_offline"), "1")
    await mosquitto.publish(ESP_STATUS, '{"status": "online"}')
    await wait_for_value(hass, ESP_TEMP, "23.5")


async def test_whole_numbers_are_shown_without_decimals(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    entity_registry: er.EntityRegistry,
) -> None:
    """A battery at 87 shows "87 %", not "87.0 %"; temperatures keep their tenth."""
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(
        ESP_STATUS,
        '{"status": "online", "battery": 87, "rssi": -61, "signal_quality": 78, "uptime": 3600}',
    )
    await wait_for_value(hass, ESP_BATTERY, "87.0")
    await mosquitto.publish(
        ESP32_TOPIC, '{"temperature": 36.6, "spo2": 97, "heart_rate": 72, "glucose": 95}'
    )
    await wait_for_value(hass, "sensor.esp32_001_blood_glucose", "95.0")
    # The diagnostics off by default, turned on by the user (then the entry reloads).
    diagnostics = [
        f"sensor.esp32_001_{name}" for name in ("signal_strength", "signal_quality", "uptime")
    ]
    for entity_id in diagnostics:
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    def precision(entity_id: str) -> int | None:
        registered = entity_registry.async_get(entity_id)
        assert registered is not None, entity_id
        return registered.options.get("sensor", {}).get("suggested_display_precision")

    whole = [
        ESP_BATTERY,
        *diagnostics,
        "sensor.esp32_001_blood_oxygen",
        "sensor.esp32_001_heart_rate",
        "sensor.esp32_001_blood_glucose",
        *(hub_sensor(mosquitto, name) for name in ("devices", "devices_online", "devices_offline")),
        hub_sensor(mosquitto, "open_incidents"),
        hub_sensor(mosquitto, "rejected_messages"),
    ]
    assert {entity_id: precision(entity_id) for entity_id in whole} == dict.fromkeys(whole, 0)
    assert precision(ESP_TEMP) == 1


async def test_last_seen_shows_the_device_clock(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    entity_registry: er.EntityRegistry,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP_STATUS, '{"status": "online", "battery": 80}')
    await wait_for_value(hass, ESP_BATTERY, "80.0")
    # Last seen is a diagnostic the user turns on (then the entry reloads).
    registered = entity_registry.async_get(ESP_LAST_SEEN)
    assert registered is not None
    assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    entity_registry.async_update_entity(ESP_LAST_SEEN, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    before = dt_util.utcnow().replace(microsecond=0)  # the state shows whole seconds
    await mosquitto.publish(
        ESP_STATUS, '{"status": "online", "battery": 81, "timestamp": "2025-01-20T10:30:00Z"}'
    )
    seen = await wait_for_state(hass, ESP_LAST_SEEN, lambda s: "device_time" in s.attributes)
    # The state is when IoT Hub heard the device; its own clock is only an attribute.
    assert dt_util.parse_datetime(seen.state) >= before
    assert seen.attributes["device_class"] == "timestamp"
    assert seen.attributes["device_time"] == "2025-01-20T10:30:00+00:00"
    # Readings carry the device's clock too.
    await mosquitto.publish(
        ESP32_TOPIC, '{"temperature": 24.5, "timestamp": "2025-01-20T10:31:00Z"}'
    )
    await wait_for_state(
        hass,
        ESP_LAST_SEEN,
        lambda s: s.attributes.get("device_time") == "2025-01-20T10:31:00+00:00",
    )
