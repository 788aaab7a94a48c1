"""Actions `iot_hub.acknowledge_incident` and `iot_hub.resolve_incident`, across all entries."""

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
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
from ..identifiers import device_id_of
from .manager import IncidentManager

MAX_NOTE = 500

INCIDENT_ACTION_SCHEMA = probatio.All(
    probatio.Schema(
        {
            probatio.Optional(ATTR_INCIDENT_ID): probatio.All(cv.string, probatio.Length(max=64)),
            probatio.Optional(ATTR_DEVICE_ID): cv.string,
            probatio.Optional(ATTR_NOTE): probatio.All(cv.string, probatio.Length(max=MAX_NOTE)),
            probatio.Optional(ATTR_SOURCE): probatio.All(cv.string, probatio.Length(max=100)),
        }
    ),
    cv.has_at_least_one_key(ATTR_INCIDENT_ID, ATTR_DEVICE_ID),
)

type Step = Callable[[IncidentManager, str, str, str | None], None]


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


def _targets(hass: HomeAssistant, call: ServiceCall) -> list[tuple[IncidentManager, str]]:
    """Find (manager, incident id) of every incident the call names; translated errors."""
    if (incident_id := call.data.get(ATTR_INCIDENT_ID)) is not None:
        for manager in _managers(hass):
            if manager.engine.get(incident_id) is not None:
                return [(manager, incident_id)]
        raise service_error("incident_not_found", incident=incident_id)
    registry_id = call.data[ATTR_DEVICE_ID]
    device = dr.async_get(hass).async_get(registry_id)
    if device is None:
        raise service_error("incident_device_not_found", device=registry_id)
    targets: list[tuple[IncidentManager, str]] = []
    for manager in _managers(hass):
        own_id = device_id_of(manager.entry.entry_id, device.identifiers)
        if own_id is not None:
            targets.extend((manager, incident.id) for incident in manager.for_device(own_id))
    if not targets:
        raise service_error("no_open_incident", device=device.name_by_user or device.name or "")
    return targets


def _handler(step: Step) -> Callable[[ServiceCall], Coroutine[Any, Any, None]]:
    async def handle(call: ServiceCall) -> None:
        who = await _who(call)
        note = call.data.get(ATTR_NOTE)
        by_id = ATTR_INCIDENT_ID in call.data
        for manager, incident_id in _targets(call.hass, call):
            try:
                step(manager, incident_id, who, note)
            except IncidentError as err:
                # By device, those already in that state are skipped; by id, say so.
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
