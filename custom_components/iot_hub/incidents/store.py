"""Where an entry's incidents are kept between restarts (versioned, with a migration path)."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1


class IncidentStore(Store[dict[str, Any]]):
    """`.storage/iot_hub.incidents.<entry_id>`: the engine's dump."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        super().__init__(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.incidents.{entry_id}",
            minor_version=STORAGE_MINOR_VERSION,
            atomic_writes=True,
        )

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring stored data to the current version (1.1 is the first: nothing to do yet)."""
        if old_major_version > STORAGE_VERSION:
            raise NotImplementedError("incidents stored by a newer IoT Hub")
        return old_data
