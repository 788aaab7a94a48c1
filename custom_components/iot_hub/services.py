"""Actions of IoT Hub."""

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import orjson
import probatio

from .broker.runtime import IotHub
from .const import ATTR_DEVICE_ID, ATTR_PAYLOAD, DOMAIN, SERVICE_SEND_COMMAND
from .core.local.common import valid_device_id
from .core.mqtt.errors import MqttError

SEND_COMMAND_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): cv.string,
        probatio.Required(ATTR_PAYLOAD): probatio.Any(dict, list),
    }
)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _target(hass: HomeAssistant, device_registry_id: str) -> tuple[IotHub, str]:
    """Return the loaded hub and the device's own id for a device-registry id."""
    device = dr.async_get(hass).async_get(device_registry_id)
    if device is None:
        raise _error("device_not_found", device=device_registry_id)
    entry = hass.config_entries.async_get_entry(device.config_entry_id or "")
    if entry is None or entry.domain != DOMAIN:
        raise _error("device_not_found", device=device_registry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _error("entry_not_loaded", entry=entry.title)
    hub: IotHub = entry.runtime_data
    prefix = f"{entry.entry_id}_"
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            return hub, identifier.removeprefix(prefix)
    # The hub device itself takes no commands.
    raise _error("device_not_found", device=device_registry_id)


async def _send_command(call: ServiceCall) -> None:
    hub, device_id = _target(call.hass, call.data[ATTR_DEVICE_ID])
    if valid_device_id(device_id) is None:
        raise _error("invalid_device_id", device=device_id)
    topic = hub.router.command_topic(device_id)
    if topic is None:
        raise _error("commands_disabled")
    payload: Any = call.data[ATTR_PAYLOAD]
    try:
        await hub.client.publish(topic, orjson.dumps(payload), qos=1, retain=False)
    except MqttError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_failed",
            translation_placeholders={"device": device_id, "error": str(err)},
        ) from err


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register `iot_hub.send_command`."""
    hass.services.async_register(
        DOMAIN, SERVICE_SEND_COMMAND, _send_command, schema=SEND_COMMAND_SCHEMA
    )
