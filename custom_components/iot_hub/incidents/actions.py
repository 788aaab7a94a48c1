"""Actions `iot_hub.acknowledge_incident` and `iot_hub.resolve_incident`, across all entries.

An action names one incident (its id), or devices whose open incidents it takes:
by registry device, or by the device's Incident binary sensor or event entity.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import probatio

from ..broker.errors import service_error
from ..broker.runtime import BrokerRuntime
from ..const import (
    ATTR_DEVICE_ID,
    ATTR_INCIDENT_ID,
    ATTR_NOTE,
    ATTR_SOURCE,
    DOMAIN,
    SERVICE_ACKNOWLEDGE_INCIDENT,
    SERVICE_RESOLVE_INCIDENT,
)
from ..core.incidents import IncidentError
from ..identifiers import device_id_of, split_unique_id
from .manager import KEY_INCIDENT, IncidentManager

MAX_NOTE = 500
# The platforms of a device's Incident entities (both keyed `KEY_INCIDENT`).
INCIDENT_PLATFORMS = frozenset({Platform.BINARY_SENSOR, Platform.EVENT})

# What names no incident is refused by the action itself: a translated error, not a schema one.
INCIDENT_ACTION_SCHEMA = probatio.Schema(
    {
        probatio.Optional(ATTR_INCIDENT_ID): probatio.All(cv.string, probatio.Length(max=64)),
        probatio.Optional(ATTR_ENTITY_ID): cv.entity_ids,
        probatio.Optional(ATTR_DEVICE_ID): cv.string,
        probatio.Optional(ATTR_NOTE): probatio.All(cv.string, probatio.Length(max=MAX_NOTE)),
        probatio.Optional(ATTR_SOURCE): probatio.All(cv.string, probatio.Length(max=100)),
    }
)

type Step = Callable[[IncidentManager, str, str, str | None], None]
# A device the call names: the name the user sees, and (manager, its own id) per entry.
type Named = tuple[str, list[tuple[IncidentManager, str]]]


def _managers(hass: HomeAssistant) -> list[IncidentManager]:
    return [
        entry.runtime_data.incidents
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED and isinstance(entry.runtime_data, BrokerRuntime)
    ]


async def _who(call: ServiceCall) -> str:
    """Name who acts: what the caller says (e.g. a phone), else the Home Assistant user."""
    if source := call.data.get(ATTR_SOURCE):
        return str(source)
    if call.context.user_id and (user := await call.hass.auth.async_get_user(call.context.user_id)):
        return user.name or user.id
    return "automation"


def _device_name(device: dr.AnyDeviceEntry | None, fallback: str) -> str:
    return (device.name_by_user or device.name or fallback) if device else fallback


def _by_device(hass: HomeAssistant, registry_id: str) -> Named:
    """Return a registry device's name and its own id in each loaded entry that has it."""
    device = dr.async_get(hass).async_get(registry_id)
    if device is None:
        raise service_error("incident_device_not_found", device=registry_id)
    places = [
        (manager, own_id)
        for manager in _managers(hass)
        if (own_id := device_id_of(manager.entry.entry_id, device.identifiers)) is not None
    ]
    return _device_name(device, ""), places


def _by_entity(hass: HomeAssistant, entity_id: str) -> Named:
    """Return the device of an IoT Hub Incident entity (sensor or event); refuse others."""
    entity = er.async_get(hass).async_get(entity_id)
    if (
        entity is None
        or entity.platform != DOMAIN
        or entity.domain not in INCIDENT_PLATFORMS
        or entity.config_entry_id is None
        or (own := split_unique_id(entity.config_entry_id, entity.unique_id, (KEY_INCIDENT,)))
        is None
    ):
        raise service_error("not_an_incident_entity", entity=entity_id)
    entry = hass.config_entries.async_get_entry(entity.config_entry_id)
    manager = next((m for m in _managers(hass) if m.entry is entry), None)
    if entry is None or manager is None:
        raise service_error("entry_not_loaded", entry=entry.title if entry else entity_id)
    device = dr.async_get(hass).async_get(entity.device_id) if entity.device_id else None
    return _device_name(device, own[0]), [(manager, own[0])]


def _targets(hass: HomeAssistant, call: ServiceCall) -> list[tuple[IncidentManager, str]]:
    """Find (manager, incident id) of every incident the call names; translated errors."""
    if (incident_id := call.data.get(ATTR_INCIDENT_ID)) is not None:
        for manager in _managers(hass):
            if manager.engine.get(incident_id) is not None:
                return [(manager, incident_id)]
        raise service_error("incident_not_found", incident=incident_id)
    entity_ids: list[str] = call.data.get(ATTR_ENTITY_ID, [])
    registry_id: str | None = call.data.get(ATTR_DEVICE_ID)
    if not entity_ids and registry_id is None:
        raise service_error("incident_target_missing")
    named = [_by_entity(hass, entity_id) for entity_id in entity_ids]
    if registry_id is not None:
        named.append(_by_device(hass, registry_id))
    # A dict: a device named twice (by its sensor and its event) has its incidents once.
    targets = {
        (manager, incident.id): None
        for _name, places in named
        for manager, own_id in places
        for incident in manager.for_device(own_id)
    }
    if not targets:
        names = dict.fromkeys(name for name, _places in named)
        raise service_error("no_open_incident", device=", ".join(names))
    return list(targets)


def _handler(step: Step) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    async def handle(call: ServiceCall) -> None:
        who = await _who(call)
        note = call.data.get(ATTR_NOTE)
        by_id = ATTR_INCIDENT_ID in call.data
        for manager, incident_id in _targets(call.hass, call):
            try:
                step(manager, incident_id, who, note)
            except IncidentError as err:
                # By device (or entity), those already in that state are skipped; by id, say so.
                if by_id:
                    raise service_error(err.key, incident=incident_id) from err

    return handle


@callback
def async_setup_incident_actions(hass: HomeAssistant) -> None:
    """Register the incident actions."""
    for service, step in (
        (SERVICE_ACKNOWLEDGE_INCIDENT, IncidentManager.acknowledge),
        (SERVICE_RESOLVE_INCIDENT, IncidentManager.resolve),
    ):
        hass.services.async_register(DOMAIN, service, _handler(step), schema=INCIDENT_ACTION_SCHEMA)
