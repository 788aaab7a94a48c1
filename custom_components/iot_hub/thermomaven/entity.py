"""Base entity of the ThermoMaven side: one value of a thermometer or of one of its probes."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.thermomaven.fleet import Thermometer
from ..core.thermomaven.models import Probe
from ..entity import IotHubBaseEntity
from ..identifiers import entity_unique_id
from ..runtime import IotHubConfigEntry
from .devices import probe_device_id, probe_info, thermometer_info
from .runtime import ACCOUNT_DEVICE, KEY_CLOUD, KEY_REPORT, ThermoMavenRuntime


@dataclass(frozen=True, kw_only=True)
class ThermoMavenEntityDescription(EntityDescription):
    """Whether the entity belongs to a probe (else to the thermometer)."""

    probe: bool = False


class ThermoMavenEntity(IotHubBaseEntity):
    """An entity of a thermometer (slot None) or of one of its probes."""

    entity_description: ThermoMavenEntityDescription

    def __init__(
        self,
        runtime: ThermoMavenRuntime,
        device_id: str,
        slot: int | None,
        description: ThermoMavenEntityDescription,
    ) -> None:
        self.runtime = runtime
        self.device_id = device_id
        self.slot = slot
        self.entity_description = description
        local_id = device_id if slot is None else probe_device_id(device_id, slot)
        self._attr_unique_id = entity_unique_id(runtime.entry_id, local_id, description.key)
        device = runtime.thermometer(device_id)
        parent = runtime.registry.parent_id(device_id)
        if slot is not None and parent is not None:
            self._attr_device_info = probe_info(runtime.entry_id, device_id, slot, parent)
        elif device is not None:
            self._attr_device_info = thermometer_info(runtime.entry_id, device)
        self._attr_available = self._is_available()
        self._refresh()

    async def async_added_to_hass(self) -> None:
        """Follow the thermometer's reports."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.runtime.listeners.add(self.device_id, KEY_REPORT, self._handle_update)
        )

    @property
    def device(self) -> Thermometer | None:
        """Return the thermometer (None once it left the account)."""
        return self.runtime.thermometer(self.device_id)

    @property
    def probe(self) -> Probe | None:
        """Return this entity's probe in the latest online report."""
        device = self.device
        return None if device is None or self.slot is None else device.probe(self.slot)

    def _is_available(self) -> bool:
        device = self.device
        if not self.runtime.availability.available or device is None:
            return False
        if self.slot is None:
            return device.online
        return self.slot in device.slots and device.probe(self.slot) is not None


class AccountConnectionEntity(IotHubBaseEntity):
    """Base of the account device's entity: follows the cloud connection."""

    def __init__(self, runtime: ThermoMavenRuntime, description: EntityDescription) -> None:
        self.runtime = runtime
        self.entity_description = description
        self._attr_unique_id = entity_unique_id(runtime.entry_id, ACCOUNT_DEVICE, description.key)
        self._attr_device_info = runtime.hub_device_info()
        self._attr_available = True
        self._refresh()

    async def async_added_to_hass(self) -> None:
        """Follow the connection."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.runtime.listeners.add(ACCOUNT_DEVICE, KEY_CLOUD, self._handle_update)
        )

    def _is_available(self) -> bool:
        return True


@callback
def async_setup_thermomaven_entities[D: ThermoMavenEntityDescription](
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[D],
    entity_class: Callable[[ThermoMavenRuntime, str, int | None, D], Entity],
    *,
    account_entities: Iterable[Entity] = (),
) -> None:
    """Add entities for known thermometers and probes, and for new ones as they appear."""
    runtime = entry.runtime_data
    assert isinstance(runtime, ThermoMavenRuntime)
    table = tuple(descriptions)

    def build(device_id: str, slot: int | None) -> list[Entity]:
        return [
            entity_class(runtime, device_id, slot, description)
            for description in table
            if description.probe == (slot is not None)
        ]

    entities = list(account_entities)
    for device_id, slot in runtime.known():
        entities.extend(build(device_id, slot))
    async_add_entities(entities)

    @callback
    def add_new(device_id: str, slot: int | None) -> None:
        async_add_entities(build(device_id, slot))

    entry.async_on_unload(runtime.add_new_entities(add_new))
