"""Actions of IoT Hub."""

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio

from .broker.commands import command_payload
from .broker.errors import service_error
from .broker.runtime import BrokerRuntime
from .const import ATTR_DEVICE_ID, ATTR_PAYLOAD, DOMAIN, SERVICE_SEND_COMMAND
from .identifiers import device_id_of
from .incidents.actions import async_setup_incident_actions

SEND_COMMAND_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): cv.string,
        probatio.Required(ATTR_PAYLOAD): probatio.Any(dict, list),
    }
)


def broker_target(hass: HomeAssistant, device_registry_id: str) -> tuple[BrokerRuntime, str]:
    """Return the loaded broker runtime and the device's own id for a device-registry id."""
    device = dr.async_get(hass).async_get(device_registry_id)
    if device is None:
        raise service_error("device_not_found", device=device_registry_id)
    entry = hass.config_entries.async_get_entry(device.config_entry_id or "")
    if entry is None or entry.domain != DOMAIN:
        raise service_error("device_not_found", device=device_registry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise service_error("entry_not_loaded", entry=entry.title)
    runtime = entry.runtime_data
    device_id = device_id_of(entry.entry_id, device.identifiers)
    # The hub device itself takes no commands.
    if device_id is None or not isinstance(runtime, BrokerRuntime):
        raise service_error("device_not_found", device=device_registry_id)
    return runtime, device_id


async def _send_command(call: ServiceCall) -> None:
    # Size, depth and JSON checked first: a refused payload never reaches the broker.
    payload = command_payload(call.data[ATTR_PAYLOAD])
    runtime, device_id = broker_target(call.hass, call.data[ATTR_DEVICE_ID])
    await runtime.async_send_command(device_id, payload)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_SEND_COMMAND, _send_command, schema=SEND_COMMAND_SCHEMA
    )
    async_setup_incident_actions(hass)
