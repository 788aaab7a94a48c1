"""IoT Hub: DIY MQTT sensors in Home Assistant, configured from the UI."""

import logging
import shutil

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .broker.runtime import IotHub, IotHubConfigEntry
from .const import DOMAIN
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions (once, whatever the number of entries)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> bool:
    """Connect to the broker and create the entities."""
    hub = IotHub(hass, entry)
    await hub.async_start()
    entry.runtime_data = hub
    entry.async_on_unload(hub.async_stop)
    # Entries are not unloaded when Home Assistant stops: disconnect cleanly then.
    entry.async_on_unload(
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, hub.async_on_homeassistant_stop)
    )
    hub.hub_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **hub.hub_device_info())
        .id
    )
    hub.async_restore_devices()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    hub.async_platforms_ready()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> bool:
    """Unload the platforms; the hub closes through async_on_unload."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> None:
    """Delete the TLS files written for this entry."""
    tls_dir = hass.config.path(".storage", DOMAIN, entry.entry_id)
    await hass.async_add_executor_job(shutil.rmtree, tls_dir, True)


async def async_migrate_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> bool:
    """Migrate old entries; version 1.1 is the first, so only refuse the future."""
    if entry.version > 1:
        _LOGGER.error(
            "Cannot downgrade IoT Hub entry %s from version %s", entry.title, entry.version
        )
        return False
    return True


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: IotHubConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Let the user delete a discovered device (not the hub device itself)."""
    hub = entry.runtime_data
    prefix = f"{entry.entry_id}_"
    for domain, identifier in device_entry.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            hub.forget_device(identifier.removeprefix(prefix))
            return True
    return False
