"""Base entity of IoT Hub, and how platforms add entities as devices report."""

from collections.abc import Callable, Mapping

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .broker.runtime import IotHub, IotHubConfigEntry
from .const import HUB_DEVICE


class IotHubEntity(Entity):
    """An entity showing one value (`description.key`) of one device of one broker."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: IotHub, device_id: str, description: EntityDescription) -> None:
        self.hub = hub
        self.device_id = device_id
        self.entity_description = description
        self._attr_unique_id = f"{hub.entry_id}_{device_id}_{description.key}"
        self._attr_device_info = hub.device_info(device_id)
        # Created from a message: carry its state from the start (nothing to write yet).
        self._attr_available = hub.entity_available(device_id, description.key)
        self._refresh()

    async def async_added_to_hass(self) -> None:
        """Follow the value once the entity is in Home Assistant."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.async_add_listener(
                self.device_id,
                getattr(self.entity_description, "listen_key", None) or self.entity_description.key,
                self._handle_update,
            )
        )

    @callback
    def _handle_update(self) -> None:
        available = self.hub.entity_available(self.device_id, self.entity_description.key)
        # Writing an unchanged state costs more than the rest of the message path.
        changed = self._refresh()
        if available != self._attr_available:
            # Only when it changes: each _attr_ assignment clears cached properties.
            self._attr_available = available
            changed = True
        if changed:
            if (context := self.hub.message_context()) is not None:
                self.async_set_context(context)
            self.async_write_ha_state()

    def _refresh(self) -> bool:
        """Take the hub's latest value; return whether the state changed."""
        raise NotImplementedError


@callback
def async_setup_device_entities[D: EntityDescription](
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    domain: str,
    descriptions: Mapping[str, D],
    entity_class: Callable[[IotHub, str, D], IotHubEntity],
    *,
    hub_descriptions: tuple[D, ...] = (),
) -> None:
    """Add hub entities and restored device entities; add new ones as devices report."""
    hub = entry.runtime_data
    entities = [entity_class(hub, HUB_DEVICE, description) for description in hub_descriptions]
    for device_id, key in hub.restored_entities(domain, descriptions):
        hub.mark_known(device_id, key)
        entities.append(entity_class(hub, device_id, descriptions[key]))
    async_add_entities(entities)

    @callback
    def add_new(device_id: str, keys: set[str]) -> None:
        async_add_entities(
            entity_class(hub, device_id, descriptions[key])
            for key in sorted(keys)
            if key in descriptions
        )

    entry.async_on_unload(hub.async_add_new_entities_listener(add_new))
