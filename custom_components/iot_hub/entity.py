"""Base entities of IoT Hub."""

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription

from .hub import IotHub


class IotHubEntity(Entity):
    """An entity fed by messages of one device on one broker."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: IotHub, device_id: str, description: EntityDescription) -> None:
        self.hub = hub
        self.device_id = device_id
        self.entity_description = description
        self._attr_unique_id = f"{hub.entry_id}_{device_id}_{description.key}"
        self._attr_device_info = hub.device_info(device_id)
        self._attr_available = hub.available

    async def async_added_to_hass(self) -> None:
        """Follow the device's messages once the entity is in Home Assistant."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_listener(self.device_id, self._handle_update))

    @callback
    def _handle_update(self) -> None:
        # Writing an unchanged state costs more than the rest of the message path.
        if self._refresh() or self._attr_available != self.hub.available:
            self._attr_available = self.hub.available
            self.async_write_ha_state()

    def _refresh(self) -> bool:
        """Take the hub's latest value; return whether the state changed."""
        raise NotImplementedError


class IotHubHubEntity(Entity):
    """An entity of the hub device (the broker connection itself)."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: IotHub, description: EntityDescription) -> None:
        self.hub = hub
        self.entity_description = description
        self._attr_unique_id = f"{hub.entry_id}_hub_{description.key}"
        self._attr_device_info = hub.hub_device_info()

    async def async_added_to_hass(self) -> None:
        """Follow the connection state."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_hub_listener(self.async_write_ha_state))
