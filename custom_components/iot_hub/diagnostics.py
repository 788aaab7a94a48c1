"""Diagnostics download for an IoT Hub entry, secrets redacted."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .broker.runtime import BrokerRuntime
from .const import (
    CONF_CA_PEM,
    CONF_CLIENT_CERT_PEM,
    CONF_CLIENT_KEY_PEM,
    CONF_INSTALL_ID,
    CONF_PASSWORD_MD5,
)
from .runtime import IotHubConfigEntry
from .thermomaven.diagnostics import thermomaven_diagnostics
from .thermomaven.runtime import ThermoMavenRuntime

TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_CA_PEM,
    CONF_CLIENT_CERT_PEM,
    CONF_CLIENT_KEY_PEM,
    CONF_EMAIL,
    CONF_TOKEN,
    CONF_PASSWORD_MD5,
    CONF_INSTALL_ID,
}


def _broker(runtime: BrokerRuntime) -> dict[str, Any]:
    """Describe a broker entry's connection, routing, rejections, alerts and devices."""
    client = runtime.client
    stats = client.stats
    return {
        "connected": client.connected,
        "available": runtime.availability.available,
        "subscriptions": client.subscriptions,
        "families": {family.value: base for family, base in runtime.router.bases.items()},
        "client": {
            "connects": stats.connects,
            "connection_losses": stats.connection_losses,
            "failed_attempts": stats.failed_attempts,
            "messages_received": stats.messages_received,
            "messages_published": stats.messages_published,
            "undecodable_topics": stats.undecodable_topics,
            "last_error": stats.last_error,
        },
        "early_messages_dropped": runtime.early_dropped,
        "unrouted_messages": runtime.unrouted,
        **runtime.quarantine.diagnostics(),
        **runtime.alerts.diagnostics(),
        "fleet": runtime.devices.fleet(),
        "devices": runtime.devices.diagnostics(),
        "incidents": runtime.incidents.diagnostics(),
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: IotHubConfigEntry
) -> dict[str, Any]:
    """Return the entry's settings (redacted) and what its runtime knows."""
    runtime = entry.runtime_data
    if isinstance(runtime, BrokerRuntime):
        details = _broker(runtime)
    elif isinstance(runtime, ThermoMavenRuntime):
        details = thermomaven_diagnostics(runtime)
    else:
        details = {}
    return {
        "entry": {
            "version": f"{entry.version}.{entry.minor_version}",
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
        },
        "runtime": details,
    }
