"""Logbook entries for incident phases: what the logbook shows for an `iot_hub_incident`."""

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.iot_hub import logbook

from .broker import Mosquitto
from .helpers import setup_entry, wait_for_value


async def test_incident_phases_are_described_for_the_logbook(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    described: dict[tuple[str, str], Callable[[Event], dict[str, Any]]] = {}
    logbook.async_describe_events(
        hass, lambda domain, event, describe: described.__setitem__((domain, event), describe)
    )
    events = async_capture_events(hass, "iot_hub_incident")
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("iot/alerts/ESP32_001", '{"level": "critical", "message": "Hot"}')
    await wait_for_value(hass, "binary_sensor.esp32_001_incident", "on")
    describe = described[("iot_hub", "iot_hub_incident")]
    assert describe(events[0]) == {
        "name": "ESP32_001",
        "message": "ESP32_001: Hot (critical)",
        "entity_id": "binary_sensor.esp32_001_incident",
    }
