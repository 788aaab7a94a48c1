"""Climate entities: one per ThermoMaven probe (the broker side has none)."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .runtime import IotHubConfigEntry
from .thermomaven.climate import async_setup_climates

# Commands wait for the device's receipt; let several probes be set at once.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the probes' climate entities of a ThermoMaven entry."""
    async_setup_climates(entry, async_add_entities)
