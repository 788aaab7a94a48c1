"""Setup, entities and runtime behaviour against a real broker."""

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .broker import Mosquitto
from .helpers import wait_for_value

TEMP = "sensor.dht11_temperature"
HUM = "sensor.dht11_humidity"
BROKER = "binary_sensor.iot_hub_127_0_0_1_{port}_broker_connection"


async def test_seed_dht11_message_creates_device_and_sensors(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = make_entry()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(TEMP) is None  # nothing published yet

    # The seed's own command.
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    temp = await wait_for_value(hass, TEMP, "25.0")
    hum = await wait_for_value(hass, HUM, "60.0")
    assert temp.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"
    assert temp.attributes["device_class"] == "temperature"
    assert temp.attributes["state_class"] == "measurement"
    assert hum.attributes[ATTR_UNIT_OF_MEASUREMENT] == "%"
    assert hum.attributes["device_class"] == "humidity"

    reg = entity_registry.async_get(TEMP)
    assert reg is not None
    assert reg.unique_id == f"{entry.entry_id}_dht11_temperature"
    device = device_registry.async_get(reg.device_id or "")
    assert device is not None
    assert device.model == "DHT11"
    hub = device_registry.async_get_device_by_identifier(
        ("iot_hub", entry.entry_id), entry.entry_id
    )
    assert hub is not None
    assert device.via_device_id == hub.id

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(TEMP).state == STATE_UNAVAILABLE
