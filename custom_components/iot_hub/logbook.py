"""Logbook entries for incident phases (the event carries a sentence in the user's language)."""

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_INCIDENT


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe `iot_hub_incident` events: "<device>: temperature 3 °C is below 5 °C"."""

    @callback
    def describe(event: Event) -> dict[str, Any]:
        data = event.data
        description: dict[str, Any] = {
            "name": str(data.get("device_name") or "IoT Hub"),
            "message": str(data.get("message") or data.get("phase") or ""),
        }
        if entity_id := data.get("entity_id"):
            description["entity_id"] = entity_id
        return description

    async_describe_event(DOMAIN, EVENT_INCIDENT, describe)
