"""A real restart: Home Assistant stopped, a new one started on the same storage."""

from collections.abc import Callable
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_test_home_assistant,
)

from ..broker import Mosquitto
from ..helpers import setup_entry, wait_for_value

PROBLEM = "binary_sensor.dht11_incident"


async def test_incident_survives_a_real_restart_and_is_not_announced_again(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry(options={"clean_session": True})
    await setup_entry(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 3, "humidity": 60}')
    await wait_for_value(hass, "sensor.dht11_temperature", "3.0")
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    incident_id = (await wait_for_value(hass, PROBLEM, "on")).attributes["incident_id"]
    rules = [
        {
            "data": dict(sub.data),
            "subentry_id": sub.subentry_id,
            "subentry_type": sub.subentry_type,
            "title": sub.title,
            "unique_id": sub.unique_id,
        }
        for sub in entry.subentries.values()
    ]
    # Home Assistant stops: the entry disconnects and writes its incidents.
    await hass.async_stop()

    async with async_test_home_assistant(config_dir=hass.config.config_dir) as hass2:
        hass2.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        events = async_capture_events(hass2, "iot_hub_incident")
        again = MockConfigEntry(
            domain="iot_hub",
            entry_id=entry.entry_id,
            title=entry.title,
            data=dict(entry.data),
            options=dict(entry.options),
            version=entry.version,
            minor_version=entry.minor_version,
            subentries_data=rules,
        )
        again.add_to_hass(hass2)
        await setup_entry(hass2, again)
        # Still cold: the same incident, nothing announced again.
        await mosquitto.publish("dht11/sensor/data", '{"temperature": 3.5, "humidity": 60}')
        problem = await wait_for_value(hass2, PROBLEM, "on")
        assert problem.attributes["incident_id"] == incident_id
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass2)
        await hass2.async_block_till_done()
        assert events == []
        # Back in range: it resolves, once.
        await mosquitto.publish("dht11/sensor/data", '{"temperature": 20}')
        await wait_for_value(hass2, PROBLEM, "off")
        assert [e.data["phase"] for e in events] == ["resolved"]
        assert events[0].data["incident_id"] == incident_id
        await hass2.async_stop()
