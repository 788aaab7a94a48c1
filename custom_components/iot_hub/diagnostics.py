"""Diagnostics download for an IoT Hub entry, secrets redacted."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .broker.runtime import IotHubConfigEntry
from .const import CONF_CA_PEM, CONF_CLIENT_CERT_PEM, CONF_CLIENT_KEY_PEM

TO_REDACT = {CONF_PASSWORD, CONF_USERNAME, CONF_CA_PEM, CONF_CLIENT_CERT_PEM, CONF_CLIENT_KEY_PEM}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: IotHubConfigEntry
) -> dict[str, Any]:
    """Return the entry's settings (redacted) and the hub's runtime counters."""
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "hub": entry.runtime_data.diagnostics(),
    }
