"""The incident actions aimed at a device's Incident entity, and their translated refusals."""

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..broker import Mosquitto
from ..helpers import setup_entry, wait_for_state, wait_for_value

ESP1_PROBLEM = "binary_sensor.esp32_001_incident"
ESP1_EVENT = "event.esp32_001_incident"
ESP2_PROBLEM = "binary_sensor.esp32_002_incident"


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    await hass.services.async_call("iot_hub", service, data, blocking=True)


async def _refusal(hass: HomeAssistant, data: dict[str, Any]) -> ServiceValidationError:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "acknowledge_incident", data)
    return err.value


async def _two_incidents(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> MockConfigEntry:
    """Set an entry up; ESP32_001 and ESP32_002 each report an alert (an incident each)."""
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    for device in ("ESP32_001", "ESP32_002"):
        await mosquitto.publish(f"iot/alerts/{device}", '{"level": "warning", "message": "A"}')
    await wait_for_value(hass, ESP1_PROBLEM, "on")
    await wait_for_value(hass, ESP2_PROBLEM, "on")
    return entry


async def test_the_incident_entity_names_its_device(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    """What the dashboard's buttons do: acknowledge by the Incident sensor, resolve by event."""
    await _two_incidents(hass, mosquitto, make_entry)
    await _call(hass, "acknowledge_incident", {"entity_id": ESP1_PROBLEM, "source": "dashboard"})
    state = await wait_for_state(
        hass, ESP1_PROBLEM, lambda s: s.attributes["status"] == "acknowledged"
    )
    assert state.attributes["acknowledged_by"] == "dashboard"
    # The other device's incident is left alone.
    assert hass.states.get(ESP2_PROBLEM).attributes["status"] == "open"

    await _call(hass, "resolve_incident", {"entity_id": ESP1_EVENT, "note": "fixed"})
    await wait_for_value(hass, ESP1_PROBLEM, "off")
    assert hass.states.get(ESP2_PROBLEM).state == "on"
    # Nothing open any more on that device: said so, by the device's name.
    err = await _refusal(hass, {"entity_id": ESP1_PROBLEM})
    assert err.translation_key == "no_open_incident"
    assert err.translation_placeholders == {"device": "ESP32_001"}


async def test_refusals_are_translated(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = await _two_incidents(hass, mosquitto, make_entry)
    # Nothing named at all.
    err = await _refusal(hass, {"note": "on my way"})
    assert err.translation_key == "incident_target_missing"
    # Entities that are not a device's Incident entity: another of ours, not ours, unknown.
    hass.states.async_set("binary_sensor.kitchen_leak", "on", {"device_class": "problem"})
    for entity_id in (
        "binary_sensor.esp32_001_connectivity",
        "binary_sensor.kitchen_leak",
        "binary_sensor.nothing_here",
    ):
        err = await _refusal(hass, {"entity_id": entity_id})
        assert err.translation_key == "not_an_incident_entity", entity_id
        assert err.translation_placeholders == {"entity": entity_id}
    # Nothing was acknowledged on the way.
    assert hass.states.get(ESP1_PROBLEM).attributes["status"] == "open"

    assert await hass.config_entries.async_unload(entry.entry_id)
    err = await _refusal(hass, {"entity_id": ESP1_PROBLEM})
    assert err.translation_key == "entry_not_loaded"
    assert err.translation_placeholders == {"entry": entry.title}
