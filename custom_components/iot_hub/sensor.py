"""Sensors of IoT Hub devices."""

from dataclasses import dataclass

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfTemperature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import IotHubEntity
from .hub import IotHub, IotHubConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class IotHubSensorDescription(SensorEntityDescription):
    """A numeric value a device reports under `key`."""


SENSORS: dict[str, IotHubSensorDescription] = {
    description.key: description
    for description in (
        IotHubSensorDescription(
            key="temperature",
            translation_key="temperature",
            device_class=SensorDeviceClass.TEMPERATURE,
            native_unit_of_measurement=UnitOfTemperature.CELSIUS,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=1,
        ),
        IotHubSensorDescription(
            key="humidity",
            translation_key="humidity",
            device_class=SensorDeviceClass.HUMIDITY,
            native_unit_of_measurement=PERCENTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
        ),
    )
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Restore known sensors and add new ones as devices report new values."""
    hub = entry.runtime_data

    restored = []
    for device_id, key in hub.restored_entities(SENSOR_DOMAIN, SENSORS):
        hub.mark_known(device_id, key)
        restored.append(IotHubSensor(hub, device_id, SENSORS[key]))
    async_add_entities(restored)

    @callback
    def add_new(device_id: str, keys: set[str]) -> None:
        async_add_entities(
            IotHubSensor(hub, device_id, SENSORS[key]) for key in sorted(keys) if key in SENSORS
        )

    entry.async_on_unload(hub.async_add_new_entities_listener(add_new))


class IotHubSensor(IotHubEntity, RestoreSensor):
    """A numeric reading of a device."""

    entity_description: IotHubSensorDescription

    def __init__(self, hub: IotHub, device_id: str, description: IotHubSensorDescription) -> None:
        super().__init__(hub, device_id, description)
        # Created from a message: carry its value from the start.
        self._attr_native_value = hub.value(device_id, description.key)

    async def async_added_to_hass(self) -> None:
        """Restore the last reading so nothing is unknown after a restart."""
        await super().async_added_to_hass()
        if self._attr_native_value is None and (last := await self.async_get_last_sensor_data()):
            self._attr_native_value = last.native_value

    def _refresh(self) -> bool:
        value = self.hub.value(self.device_id, self.entity_description.key)
        if value is None or value == self._attr_native_value:
            return False
        self._attr_native_value = value
        return True
