"""The DHT11 scenario end to end on the real broker: cold → incident → escalate → ack → resolve."""

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from ..broker import Mosquitto
from ..helpers import hub_sensor, setup_entry, wait_for_state, wait_for_value
from .conftest import Observer, edit_rule

PROBLEM = "binary_sensor.dht11_incident"
EVENT = "event.dht11_incident"
TEMP = "sensor.dht11_temperature"


async def _cold_incident(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> str:
    """Set up with a 20 s minimum duration and a critical bound; open a warning incident."""
    await setup_entry(hass, entry)
    await edit_rule(hass, entry, "temperature", critical_min=2, min_duration=20)
    # The users' own command: 3 °C is below their 5 °C threshold.
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 3, "humidity": 60}')
    await wait_for_value(hass, TEMP, "3.0")
    # Not yet: it must last the minimum duration.
    assert hass.states.get(PROBLEM).state == "off"
    freezer.tick(timedelta(seconds=21))
    async_fire_time_changed(hass)
    state = await wait_for_value(hass, PROBLEM, "on")
    return str(state.attributes["incident_id"])


async def test_cold_dht11_opens_escalates_is_acknowledged_and_resolves(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    observer: Observer,
) -> None:
    events = async_capture_events(hass, "iot_hub_incident")
    entry = make_entry(options={"clean_session": True})
    incident_id = await _cold_incident(hass, mosquitto, entry, freezer)

    problem = hass.states.get(PROBLEM)
    assert problem.attributes["severity"] == "warning"
    assert problem.attributes["metric"] == "temperature"
    assert problem.attributes["value"] == 3.0
    assert problem.attributes["threshold"] == 5.0
    assert problem.attributes["status"] == "open"
    assert hass.states.get(EVENT).attributes["event_type"] == "opened"
    assert hass.states.get(hub_sensor(mosquitto, "open_incidents")).state == "1"
    [opened] = events
    assert opened.data["phase"] == "opened"
    assert opened.data["incident_id"] == incident_id
    assert opened.data["entity_id"] == PROBLEM
    assert opened.data["device_name"] == "DHT11"
    assert opened.data["message"] == "DHT11: temperature 3 °C is below 5 °C (warning)"
    # The users' Django system hears it in its own shapes.
    await observer.wait(lambda seen: seen.on("dht11/alerts") and seen.on("dht11/incidents"))
    [alert] = observer.on("dht11/alerts")
    assert alert["incident_id"] == incident_id
    assert alert["alert_type"] == "temperature_low"
    assert alert["severity"] == "warning"
    assert observer.on("dht11/incidents")[0]["status"] == "open"

    # Colder: escalates at once (the incident is already open).
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 1}')
    await wait_for_state(hass, PROBLEM, lambda s: s.attributes["severity"] == "critical")
    assert events[-1].data["phase"] == "escalated"
    assert hass.states.get(EVENT).attributes["event_type"] == "escalated"
    await observer.wait(lambda seen: len(seen.on("dht11/alerts")) == 2)
    assert observer.on("dht11/alerts")[1]["severity"] == "critical"

    # A person acknowledges it.
    await hass.services.async_call(
        "iot_hub",
        "acknowledge_incident",
        {"incident_id": incident_id, "note": "Heating is on its way"},
        blocking=True,
    )
    problem = await wait_for_state(
        hass, PROBLEM, lambda s: s.attributes["status"] == "acknowledged"
    )
    assert problem.state == "on"
    assert events[-1].data["phase"] == "acknowledged"
    await observer.wait(lambda seen: seen.on("dht11/incidents")[-1]["status"] == "acknowledged")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            "iot_hub", "acknowledge_incident", {"incident_id": incident_id}, blocking=True
        )
    assert err.value.translation_key == "incident_already_acknowledged"

    # Back in range, but inside the hysteresis band (5 + 0.5): still open.
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 5.2}')
    await wait_for_value(hass, TEMP, "5.2")
    problem = hass.states.get(PROBLEM)
    assert problem.state == "on"
    # Out of the critical band by more than the hysteresis: back to a warning, still acked.
    assert problem.attributes["severity"] == "warning"
    assert problem.attributes["status"] == "acknowledged"
    # Past it: resolved, and the Django system is told.
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 6}')
    await wait_for_value(hass, PROBLEM, "off")
    assert events[-1].data["phase"] == "resolved"
    assert events[-1].data["message"] == "DHT11: incident resolved (temperature is back at 6 °C)"
    assert hass.states.get(hub_sensor(mosquitto, "open_incidents")).state == "0"
    await observer.wait(lambda seen: seen.on("dht11/incidents")[-1]["status"] == "resolved")
    assert [e.data["phase"] for e in events] == [
        "opened",
        "escalated",
        "acknowledged",
        "deescalated",
        "resolved",
    ]
    # Our own publications came back to us (we subscribe to dht11/incidents): never a new one.
    assert hass.states.get(hub_sensor(mosquitto, "rejected_messages")).state == "0"


async def test_short_cold_spell_opens_nothing(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, "iot_hub_incident")
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 3, "humidity": 60}')
    await wait_for_value(hass, TEMP, "3.0")
    freezer.tick(timedelta(seconds=30))
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 7}')
    await wait_for_value(hass, TEMP, "7.0")
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(PROBLEM).state == "off"
    assert events == []


async def test_incident_kept_across_reload_and_not_announced_twice(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, object],
) -> None:
    events = async_capture_events(hass, "iot_hub_incident")
    entry = make_entry(options={"clean_session": True})
    incident_id = await _cold_incident(hass, mosquitto, entry, freezer)
    assert [e.data["phase"] for e in events] == ["opened"]
    # Written the moment it opened.
    await hass.async_block_till_done()
    stored = hass_storage[f"iot_hub.incidents.{entry.entry_id}"]
    assert incident_id in str(stored)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    problem = hass.states.get(PROBLEM)
    assert problem.state == "on"
    assert problem.attributes["incident_id"] == incident_id
    # Still cold after the restart: the same incident, nothing announced again.
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 3.5}')
    await wait_for_value(hass, TEMP, "3.5")
    freezer.tick(timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert [e.data["phase"] for e in events] == ["opened"]
    assert hass.states.get(PROBLEM).attributes["incident_id"] == incident_id


async def test_deleting_the_rule_resolves_its_incident_and_says_so(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, "iot_hub_incident")
    entry = make_entry(options={"clean_session": True})
    incident_id = await _cold_incident(hass, mosquitto, entry, freezer)
    rule = next(sub for sub in entry.subentries.values() if sub.data["metric"] == "temperature")
    assert hass.config_entries.async_remove_subentry(entry, rule.subentry_id)
    await hass.async_block_till_done()
    await wait_for_value(hass, PROBLEM, "off")
    resolved = events[-1].data
    assert resolved["phase"] == "resolved"
    assert resolved["incident_id"] == incident_id
    assert resolved["resolve_reason"] == "rule_removed"
    assert resolved["message"] == "DHT11: incident resolved (its rule was removed or changed)"
