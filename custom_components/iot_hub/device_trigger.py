"""Device triggers of IoT Hub devices: incident phases, motion detected, mat pressed."""

from typing import Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    ATTR_DEVICE_ID,
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import probatio

from .const import DOMAIN, EVENT_DEVICE, EVENT_INCIDENT
from .core.local.device_state import KEY_MOTION, KEY_OCCUPANCY

INCIDENT_TRIGGERS: Final = {
    "incident_opened": "opened",
    "incident_escalated": "escalated",
    "incident_acknowledged": "acknowledged",
    "incident_resolved": "resolved",
}
# Trigger type -> the event entity (by its key) that the device must have.
EVENT_TRIGGERS: Final = {
    f"{KEY_MOTION}_detected": KEY_MOTION,
    f"{KEY_OCCUPANCY}_pressed": KEY_OCCUPANCY,
}

TRIGGER_SCHEMA: Final = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {probatio.Required(CONF_TYPE): probatio.In([*INCIDENT_TRIGGERS, *EVENT_TRIGGERS])}
)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, str]]:
    """List the triggers of an IoT Hub device: incidents always, events when it has them."""
    registry = er.async_get(hass)
    keys = {
        entry.unique_id.rsplit("_", 1)[-1]
        for entry in er.async_entries_for_device(registry, device_id)
        if entry.platform == DOMAIN and entry.domain == "event"
    }
    base = {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id}
    types = [*INCIDENT_TRIGGERS] if "incident" in keys else []
    types += [kind for kind, key in EVENT_TRIGGERS.items() if key in keys]
    return [{**base, CONF_TYPE: kind} for kind in types]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the bus event behind the trigger type."""
    kind = config[CONF_TYPE]
    if kind in INCIDENT_TRIGGERS:
        event_type = EVENT_INCIDENT
        data = {ATTR_DEVICE_ID: config[CONF_DEVICE_ID], "phase": INCIDENT_TRIGGERS[kind]}
    else:
        event_type = EVENT_DEVICE
        data = {ATTR_DEVICE_ID: config[CONF_DEVICE_ID], "type": kind}
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            CONF_PLATFORM: CONF_EVENT,
            "event_type": event_type,
            "event_data": data,
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
