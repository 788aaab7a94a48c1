"""IoT Hub: DIY MQTT sensors in Home Assistant, configured from the UI."""

import logging
import shutil
from types import MappingProxyType

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .broker.runtime import BrokerRuntime
from .const import DOMAIN
from .identifiers import device_id_of
from .incidents.rules import default_rule_subentries
from .incidents.store import IncidentStore
from .runtime import CONF_KIND, EntryKind, IotHubConfigEntry, IotHubRuntime
from .services import async_setup_services
from .thermomaven.runtime import ThermoMavenRuntime

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions (once, whatever the number of entries)."""
    async_setup_services(hass)
    return True


def _runtime(hass: HomeAssistant, entry: IotHubConfigEntry) -> IotHubRuntime:
    """Create the runtime object for the entry's kind."""
    match EntryKind(entry.data.get(CONF_KIND, EntryKind.BROKER)):
        case EntryKind.BROKER:
            return BrokerRuntime(hass, entry)
        case EntryKind.THERMOMAVEN:
            return ThermoMavenRuntime(hass, entry)


async def async_setup_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> bool:
    """Connect and create the entities."""
    runtime = _runtime(hass, entry)
    await runtime.async_start()
    entry.runtime_data = runtime
    entry.async_on_unload(runtime.async_stop)

    async def stop(_event: Event) -> None:
        await runtime.async_stop()

    # Entries are not unloaded when Home Assistant stops: disconnect cleanly then.
    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop))
    hub = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **runtime.hub_device_info()
    )
    if isinstance(runtime, BrokerRuntime):
        runtime.devices.hub_device_id = hub.id
    await hass.config_entries.async_forward_entry_setups(entry, runtime.platforms)
    await runtime.async_platforms_ready()
    if runtime.kind is EntryKind.BROKER:
        # Options and rules (subentries): a change takes effect at once. (A ThermoMaven
        # entry's data changes with every new token: reauth and reconfigure reload it.)
        entry.async_on_unload(entry.add_update_listener(_async_reload))
    return True


async def _async_reload(hass: HomeAssistant, entry: IotHubConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> bool:
    """Unload the platforms; the runtime stops through async_on_unload."""
    return await hass.config_entries.async_unload_platforms(entry, entry.runtime_data.platforms)


async def async_remove_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> None:
    """Delete the files written for this entry (TLS material) and its incidents."""
    entry_dir = hass.config.path(".storage", DOMAIN, entry.entry_id)
    await hass.async_add_executor_job(shutil.rmtree, entry_dir, True)
    await IncidentStore(hass, entry.entry_id).async_remove()


async def async_migrate_entry(hass: HomeAssistant, entry: IotHubConfigEntry) -> bool:
    """Bring older entries to version 1.2; refuse versions from the future."""
    if entry.version > 1:
        _LOGGER.error(
            "Cannot downgrade IoT Hub entry %s from version %s", entry.title, entry.version
        )
        return False
    if entry.minor_version < 2:
        # 1.2: the entry says which kind it is (every 1.1 entry is a broker).
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_KIND: EntryKind.BROKER.value}, minor_version=2
        )
        _LOGGER.debug("Migrated IoT Hub entry %s to version 1.2", entry.title)
    if entry.minor_version < 3:
        # 1.3: incident rules are subentries; a broker starts with the default ones.
        rules = default_rule_subentries() if entry.data[CONF_KIND] == EntryKind.BROKER else []
        for subentry in rules:
            hass.config_entries.async_add_subentry(
                entry,
                ConfigSubentry(
                    data=MappingProxyType(dict(subentry["data"])),
                    subentry_type=subentry["subentry_type"],
                    title=subentry["title"],
                    unique_id=None,
                ),
            )
        hass.config_entries.async_update_entry(entry, minor_version=3)
        _LOGGER.debug("Migrated IoT Hub entry %s to version 1.3", entry.title)
    return True


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: IotHubConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Let the user delete a discovered device (not the hub device itself)."""
    device_id = device_id_of(entry.entry_id, device_entry.identifiers)
    if device_id is None:
        return False
    return entry.runtime_data.forget_device(device_id)
