"""Binary sensors of IoT Hub: the broker connection."""

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import IotHubHubEntity
from .hub import IotHubConfigEntry

PARALLEL_UPDATES = 0

BROKER_CONNECTION = BinarySensorEntityDescription(
    key="broker_connection",
    translation_key="broker_connection",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the broker connectivity sensor of the hub device."""
    async_add_entities([BrokerConnectionSensor(entry.runtime_data, BROKER_CONNECTION)])


class BrokerConnectionSensor(IotHubHubEntity, BinarySensorEntity):
    """On while the broker connection is up (no grace period: it is the diagnosis)."""

    @property
    def is_on(self) -> bool:
        """Whether the client is connected right now."""
        return self.hub.client.connected
