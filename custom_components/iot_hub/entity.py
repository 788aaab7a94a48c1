"""Base entity and entity description of IoT Hub, and how platforms add entities."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.core import Context, callback
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .broker.runtime import BrokerRuntime
from .const import HUB_DEVICE
from .identifiers import entity_unique_id
from .runtime import IotHubConfigEntry

type AttributesFn = Callable[[BrokerRuntime, str], Mapping[str, Any] | None]


@dataclass(frozen=True, kw_only=True)
class IotHubEntityDescription(EntityDescription):
    """What every IoT Hub entity description has beside Home Assistant's fields."""

    # Extra state attributes, from the runtime and the device id.
    attributes_fn: AttributesFn | None = None
    # The runtime notifies changes under this key (defaults to `key`).
    listen_key: str | None = None


class IotHubBaseEntity(Entity):
    """What every IoT Hub entity does: follow a runtime's listeners, write only changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def _is_available(self) -> bool:
        """Return whether the entity has a meaningful state now."""
        raise NotImplementedError

    def _refresh(self) -> bool:
        """Take the runtime's latest value; return whether the state changed."""
        raise NotImplementedError

    def _message_context(self) -> Context | None:
        """Return the context of the message being handled, if any."""
        return None

    @callback
    def _handle_update(self) -> None:
        available = self._is_available()
        # Writing an unchanged state costs more than the rest of the message path.
        changed = self._refresh()
        if available != self._attr_available:
            # Only when it changes: each _attr_ assignment clears cached properties.
            self._attr_available = available
            changed = True
        if changed:
            if (context := self._message_context()) is not None:
                self.async_set_context(context)
            self.async_write_ha_state()


class IotHubEntity(IotHubBaseEntity):
    """An entity showing one value (`description.key`) of one device of one broker."""

    entity_description: IotHubEntityDescription

    def __init__(
        self, runtime: BrokerRuntime, device_id: str, description: IotHubEntityDescription
    ) -> None:
        self.runtime = runtime
        self.device_id = device_id
        self.entity_description = description
        self._attr_unique_id = entity_unique_id(runtime.entry_id, device_id, description.key)
        self._attr_device_info = runtime.device_info(device_id)
        # Created from a message: carry its state from the start (nothing to write yet).
        self._attr_available = self._is_available()
        self._refresh()

    async def async_added_to_hass(self) -> None:
        """Follow the value once the entity is in Home Assistant."""
        await super().async_added_to_hass()
        description = self.entity_description
        self.async_on_remove(
            self.runtime.listeners.add(
                self.device_id, description.listen_key or description.key, self._handle_update
            )
        )

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Attributes the description computes (None for most entities)."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.runtime, self.device_id)

    def _is_available(self) -> bool:
        return self.runtime.entity_available(self.device_id, self.entity_description.key)

    def _message_context(self) -> Context | None:
        return self.runtime.listeners.message_context()


@callback
def async_setup_device_entities[D: IotHubEntityDescription](
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    domain: str,
    descriptions: Mapping[str, D],
    entity_class: Callable[[BrokerRuntime, str, D], IotHubEntity],
    *,
    hub_descriptions: tuple[D, ...] = (),
) -> None:
    """Add hub entities and restored device entities; add new ones as devices report."""
    runtime = entry.runtime_data
    if not isinstance(runtime, BrokerRuntime):
        return
    entities = [entity_class(runtime, HUB_DEVICE, description) for description in hub_descriptions]
    entities.extend(
        entity_class(runtime, device_id, descriptions[key])
        for device_id, key in runtime.devices.restored_entities(domain, descriptions)
    )
    async_add_entities(entities)

    @callback
    def add_new(device_id: str, keys: frozenset[str]) -> None:
        async_add_entities(
            entity_class(runtime, device_id, descriptions[key])
            for key in sorted(keys)
            if key in descriptions
        )

    entry.async_on_unload(runtime.listeners.add_new_entities(add_new))
