"""Incidents from elsewhere: device alerts, the users' Django system, silent devices."""

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from ..broker import Mosquitto
from ..helpers import device_of, hub_sensor, setup_entry, wait_for_state, wait_for_value
from .conftest import Observer

ESP_PROBLEM = "binary_sensor.esp32_001_incident"
DHT_PROBLEM = "binary_sensor.dht11_incident"


async def test_critical_alert_opens_a_critical_incident_on_that_device(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    observer: Observer,
) -> None:
    events = async_capture_events(hass, "iot_hub_incident")
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish(
        "iot/alerts/ESP32_001", '{"level": "critical", "message": "Temperature high"}'
    )
    problem = await wait_for_value(hass, ESP_PROBLEM, "on")
    assert problem.attributes["severity"] == "critical"
    assert problem.attributes["kind"] == "external"
    assert problem.attributes["message"] == "Temperature high"
    [opened] = events
    assert opened.data["source_device_id"] == "ESP32_001"
    assert opened.data["message"] == "ESP32_001: Temperature high (critical)"
    await observer.wait(lambda seen: bool(seen.on("dht11/alerts")))
    assert observer.on("dht11/alerts")[0]["severity"] == "critical"
    # The same alert again (QoS 1 redelivery, or the device insisting): no second incident.
    await mosquitto.publish(
        "iot/alerts/ESP32_001", '{"level": "critical", "message": "Temperature high"}'
    )
    await mosquitto.publish("iot/sensors/ESP32_001/data", '{"temperature": 24}')
    await wait_for_value(hass, "sensor.esp32_001_temperature", "24.0")
    assert len(events) == 1
    assert hass.states.get(hub_sensor(mosquitto, "open_incidents")).state == "1"


async def test_django_incidents_are_followed_and_never_echoed(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    observer: Observer,
) -> None:
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 21, "humidity": 50}')
    await wait_for_value(hass, "sensor.dht11_temperature", "21.0")
    await mosquitto.publish(
        "dht11/incidents",
        '{"action": "create", "incident_id": 7, "severity": "critical",'
        ' "message": "Température basse", "temperature": 3}',
    )
    problem = await wait_for_value(hass, DHT_PROBLEM, "on")
    assert problem.attributes["severity"] == "critical"
    assert problem.attributes["message"] == "Température basse"
    # Django's own status publication is not a new incident.
    await mosquitto.publish("dht11/incidents", '{"incident_id": 7, "status": "open"}')
    await mosquitto.publish("dht11/incidents", '{"action": "resolve", "incident_id": 7}')
    await wait_for_value(hass, DHT_PROBLEM, "off")
    # What came from the broker is not published back to it.
    assert [topic for topic, _ in observer.messages] == [
        "dht11/incidents",
        "dht11/incidents",
        "dht11/incidents",
    ]
    assert hass.states.get(hub_sensor(mosquitto, "open_incidents")).state == "0"


async def test_publishing_can_be_turned_off(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    observer: Observer,
) -> None:
    entry = make_entry(options={"clean_session": True, "publish_incidents": False})
    await setup_entry(hass, entry)
    await mosquitto.publish("iot/alerts/ESP32_001", '{"level": "warning", "message": "Low"}')
    await wait_for_value(hass, ESP_PROBLEM, "on")
    # A marker published after it arrives after anything IoT Hub would have published.
    await mosquitto.publish("dht11/alerts", '{"marker": true}')
    await observer.wait(lambda seen: bool(seen.messages))
    assert observer.messages == [("dht11/alerts", {"marker": True})]


async def test_offline_rule_opens_and_resolves(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "offline_rule"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"after": 5, "severity": "critical"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Offline > 5 min"
    await hass.async_block_till_done()
    await mosquitto.publish("iot/devices/ESP32_001/status", "online")
    await wait_for_value(hass, "binary_sensor.esp32_001_connectivity", "on")
    await mosquitto.publish("iot/devices/ESP32_001/status", "offline")
    await wait_for_value(hass, "binary_sensor.esp32_001_connectivity", "off")
    assert hass.states.get(ESP_PROBLEM).state == "off"
    freezer.tick(timedelta(minutes=5, seconds=1))
    async_fire_time_changed(hass)
    problem = await wait_for_value(hass, ESP_PROBLEM, "on")
    assert problem.attributes["kind"] == "offline"
    assert problem.attributes["severity"] == "critical"
    await mosquitto.publish("iot/devices/ESP32_001/status", "online")
    await wait_for_value(hass, ESP_PROBLEM, "off")


async def test_actions_by_device_and_their_errors(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("iot/alerts/ESP32_001", '{"level": "warning", "message": "A"}')
    await wait_for_value(hass, ESP_PROBLEM, "on")
    device = device_of(device_registry, entry, "ESP32_001")
    await hass.services.async_call(
        "iot_hub",
        "acknowledge_incident",
        {"device_id": device.id, "source": "mobile notification (Pixel 7)"},
        blocking=True,
    )
    state = await wait_for_state(
        hass, ESP_PROBLEM, lambda s: s.attributes["status"] == "acknowledged"
    )
    assert state.attributes["acknowledged_by"] == "mobile notification (Pixel 7)"
    await hass.services.async_call(
        "iot_hub", "resolve_incident", {"device_id": device.id, "note": "fixed"}, blocking=True
    )
    await wait_for_value(hass, ESP_PROBLEM, "off")


async def test_deleting_a_device_resolves_its_incidents(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    events = async_capture_events(hass, "iot_hub_incident")
    assert await async_setup_component(hass, "config", {})
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("iot/alerts/ESP32_001", '{"level": "warning", "message": "A"}')
    await wait_for_value(hass, ESP_PROBLEM, "on")
    device = device_of(device_registry, entry, "ESP32_001")
    client = await hass_ws_client(hass)
    response = await client.remove_device(device.id)
    assert response["success"]
    await hass.async_block_till_done()
    assert [e.data["phase"] for e in events] == ["opened", "resolved"]
    assert events[-1].data["note"] == "device deleted"
    assert hass.states.get(hub_sensor(mosquitto, "open_incidents")).state == "0"
