"""Binary sensors: motion, occupancy, device connectivity, broker connection."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import (
    DOMAIN as BINARY_SENSOR_DOMAIN,
    BinarySensorDeviceClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .broker.runtime import KEY_BROKER, IotHub, IotHubConfigEntry
from .const import HUB_DEVICE
from .core.local.device_state import KEY_CONNECTIVITY, KEY_MOTION, KEY_OCCUPANCY
from .entity import IotHubEntity, async_setup_device_entities

PARALLEL_UPDATES = 0

EVENT_ATTRIBUTES = ("event_id", "source", "device_time", "pressure", "duration_ms")


def _broker(hub: IotHub, device_id: str) -> bool | None:
    return hub.client.connected


def _connectivity(hub: IotHub, device_id: str) -> bool | None:
    state = hub.device(device_id)
    return state.online if state else None


def _motion(hub: IotHub, device_id: str) -> bool | None:
    state = hub.device(device_id)
    return state.motion if state else None


def _occupancy(hub: IotHub, device_id: str) -> bool | None:
    state = hub.device(device_id)
    return state.occupancy if state else None


def _event_attributes(hub: IotHub, device_id: str, key: str) -> Mapping[str, Any] | None:
    state = hub.device(device_id)
    return state.event_attributes.get(key) if state else None


@dataclass(frozen=True, kw_only=True)
class IotHubBinarySensorDescription(BinarySensorEntityDescription):
    """How to read one binary sensor from the hub."""

    is_on_fn: Callable[[IotHub, str], bool | None]
    # Event sensors carry the last event's id, source, device time...
    event_attributes: bool = False


BROKER_CONNECTION = IotHubBinarySensorDescription(
    key=KEY_BROKER,
    translation_key=KEY_BROKER,
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    is_on_fn=_broker,
)

DEVICE_BINARY_SENSORS: dict[str, IotHubBinarySensorDescription] = {
    description.key: description
    for description in (
        IotHubBinarySensorDescription(
            key=KEY_CONNECTIVITY,
            translation_key=KEY_CONNECTIVITY,
            device_class=BinarySensorDeviceClass.CONNECTIVITY,
            entity_category=EntityCategory.DIAGNOSTIC,
            is_on_fn=_connectivity,
        ),
        IotHubBinarySensorDescription(
            key=KEY_MOTION,
            device_class=BinarySensorDeviceClass.MOTION,
            translation_key=KEY_MOTION,
            is_on_fn=_motion,
            event_attributes=True,
        ),
        IotHubBinarySensorDescription(
            key=KEY_OCCUPANCY,
            device_class=BinarySensorDeviceClass.OCCUPANCY,
            translation_key=KEY_OCCUPANCY,
            is_on_fn=_occupancy,
            event_attributes=True,
        ),
    )
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the broker sensor, restore known ones, and add new ones as devices report."""
    async_setup_device_entities(
        entry,
        async_add_entities,
        BINARY_SENSOR_DOMAIN,
        DEVICE_BINARY_SENSORS,
        IotHubBinarySensor,
        hub_descriptions=(BROKER_CONNECTION,),
    )


class IotHubBinarySensor(IotHubEntity, BinarySensorEntity, RestoreEntity):
    """An on/off state of a device or of the broker connection."""

    entity_description: IotHubBinarySensorDescription

    async def async_added_to_hass(self) -> None:
        """Restore the last state so nothing is unknown after a restart."""
        await super().async_added_to_hass()
        if (
            self._attr_is_on is None
            and self.device_id != HUB_DEVICE
            and (last := await self.async_get_last_state()) is not None
            and last.state in ("on", "off")
        ):
            self._attr_is_on = last.state == "on"
            if self.entity_description.event_attributes:
                self._attr_extra_state_attributes = {
                    key: value for key, value in last.attributes.items() if key in EVENT_ATTRIBUTES
                }

    def _refresh(self) -> bool:
        description = self.entity_description
        is_on = description.is_on_fn(self.hub, self.device_id)
        attributes = (
            _event_attributes(self.hub, self.device_id, description.key)
            if description.event_attributes
            else None
        )
        if is_on is None or (is_on == self._attr_is_on and attributes is None):
            return False
        if is_on == self._attr_is_on and attributes == self._attr_extra_state_attributes:
            return False
        self._attr_is_on = is_on
        if attributes is not None:
            self._attr_extra_state_attributes = dict(attributes)
        return True
