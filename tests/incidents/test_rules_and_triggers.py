"""Rules managed on the integration's page, and device triggers in the automation editor."""

from collections.abc import Callable
from typing import Any

from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
    async_mock_service,
)

from ..broker import Mosquitto
from ..helpers import SEED_001_MOTION, device_of, setup_entry, wait_for_value


async def test_defaults_exist_and_a_rule_is_added_from_the_ui(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    # The users' thresholds exist as soon as the entry does (1.1 entries get them by migration).
    assert sorted(sub.title for sub in entry.subentries.values()) == ["Humidity", "Temperature"]
    await mosquitto.publish("iot/sensors/ESP32_001/data", '{"battery": 50}')
    await wait_for_value(hass, "sensor.esp32_001_battery", "50.0")
    device = device_of(device_registry, entry, "ESP32_001")

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "rule"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    # Bounds in the wrong order are refused on the field, translated.
    bad: dict[str, Any] = {
        "metric": "battery",
        "device": device.id,
        "warning_min": 20,
        "critical_min": 30,
        "hysteresis": 1,
        "min_duration": 0,
    }
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"warning_min": "rule_severity_order"} or result["errors"] == {
        "critical_min": "rule_severity_order"
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**bad, "critical_min": 10, "name": "Battery"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Battery (ESP32_001)"
    await hass.async_block_till_done()
    # The rule applies at once (the entry reloaded): a low battery opens an incident.
    await mosquitto.publish("iot/sensors/ESP32_001/data", '{"battery": 15}')
    problem = await wait_for_value(hass, "binary_sensor.esp32_001_incident", "on")
    assert problem.attributes["metric"] == "battery"
    assert problem.attributes["severity"] == "warning"


async def test_device_triggers_are_listed_and_fire(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    calls: list[ServiceCall] = async_mock_service(hass, "test", "automation")
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    await wait_for_value(hass, "binary_sensor.raspberry_1_motion", "on")
    device = device_of(device_registry, entry, "raspberry-1")
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device.id)
    types = {trigger["type"] for trigger in triggers if trigger["domain"] == "iot_hub"}
    assert types == {
        "incident_opened",
        "incident_escalated",
        "incident_acknowledged",
        "incident_resolved",
        "motion_detected",
    }
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "triggers": [
                        {
                            "platform": "device",
                            "domain": "iot_hub",
                            "device_id": device.id,
                            "type": kind,
                        }
                    ],
                    "actions": [{"action": "test.automation", "data": {"kind": kind}}],
                }
                for kind in ("motion_detected", "incident_opened")
            ]
        },
    )
    await mosquitto.publish("sensor/motion", SEED_001_MOTION.replace("test-123", "test-124"))
    await mosquitto.publish("iot/alerts/raspberry-1", '{"level": "warning", "message": "Tamper"}')
    await wait_for_value(hass, "binary_sensor.raspberry_1_incident", "on")
    await hass.async_block_till_done()
    assert sorted(call.data["kind"] for call in calls) == ["incident_opened", "motion_detected"]
