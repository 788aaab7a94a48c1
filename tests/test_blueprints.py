"""The automation blueprints, run as automations in a real Home Assistant.

Device offline uses the integration's own connectivity sensor (real broker); the
other scenarios set binary sensor states with `hass.states.async_set`. Notifications
are captured with recording notify actions.
"""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, slugify, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from .broker import Mosquitto
from .helpers import wait_for_value

BLUEPRINT_DIR = Path(__file__).parent.parent / "blueprints" / "automation" / "iot_hub"
SOURCE_URL = "https://github.com/iot-hub/iot_hub/blob/main/blueprints/automation/iot_hub/"
OFFLINE = "device_offline.yaml"
SURVEILLANCE = "surveillance_alert.yaml"
INCIDENT = "incident_notification.yaml"
COOK_DONE = "cook_done.yaml"

SEED_002_ESP32 = '{"device_id":"ESP32_001","temperature":23.5,"humidity":48.2,"timestamp":61234}'
ESP_CONN = "binary_sensor.esp32_001_connectivity"
MOTION = "binary_sensor.raspberry_1_motion"
OCCUPANCY = "binary_sensor.raspberry_1_occupancy"
ARMING = "input_boolean.surveillance"
DISARM = "IOT_HUB_DISARM_SURVEILLANCE"
# 14:00 in the test's time zone (US/Pacific).
T0 = "2026-11-23 22:00:00+00:00"


def _motion_event(event_id: str) -> str:
    return (
        f'{{"event_id": "{event_id}", "device_id": "raspberry-1", "source": "sensor-motion",'
        ' "type": "MOTION_DETECTED", "data": {"presence": true}, "timestamp": 1234567890}'
    )


def _pressure_event(event_id: str) -> str:
    return (
        f'{{"event_id": "{event_id}", "device_id": "raspberry-1", "source": "sensor-pressure",'
        ' "type": "PRESSURE_DETECTED", "data": {"pressure": "high", "duration_ms": 500},'
        ' "timestamp": 1734567890.123}'
    )


async def _install_blueprints(hass: HomeAssistant) -> None:
    """Copy the repository's blueprints where Home Assistant looks for them."""
    target = Path(hass.config.path("blueprints/automation/iot_hub"))

    def copy() -> None:
        target.mkdir(parents=True, exist_ok=True)
        for path in BLUEPRINT_DIR.glob("*.yaml"):
            shutil.copy(path, target / path.name)

    await hass.async_add_executor_job(copy)


async def _automation(
    hass: HomeAssistant,
    blueprint: str,
    inputs: dict[str, Any],
    alias: str = "Under test",
    *,
    expect: str = "on",
) -> str:
    """Set up one automation from a blueprint; check it is on (valid); return its id."""
    await _install_blueprints(hass)
    config = {
        "id": slugify(alias),
        "alias": alias,
        "use_blueprint": {"path": f"iot_hub/{blueprint}", "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    entity_id = f"automation.{slugify(alias)}"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == expect
    return entity_id


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def _local(when: str) -> str:
    """Local HH:MM:SS of an ISO time, as the notifications show it."""
    parsed = dt_util.parse_datetime(when)
    assert parsed is not None
    return dt_util.as_local(parsed).strftime("%H:%M:%S")


@pytest.fixture
def phone(hass: HomeAssistant, device_registry: dr.DeviceRegistry) -> str:
    """A phone registered by the Companion app (its notify action: mobile_app_pixel_7)."""
    entry = MockConfigEntry(domain="mobile_app", title="Pixel 7")
    entry.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("mobile_app", "pixel-7-device-id")},
        name="Pixel 7",
        manufacturer="Google",
        model="Pixel 7",
    )
    return device.id


@pytest.fixture
def pixel(hass: HomeAssistant) -> list[ServiceCall]:
    """What notify.mobile_app_pixel_7 received."""
    return async_mock_service(hass, "notify", "mobile_app_pixel_7")


@pytest.fixture
def family(hass: HomeAssistant) -> list[ServiceCall]:
    """What notify.family (a notify group, say) received."""
    return async_mock_service(hass, "notify", "family")


# --- The files themselves --------------------------------------------------------------


@pytest.mark.parametrize("name", [OFFLINE, SURVEILLANCE, INCIDENT, COOK_DONE])
def test_blueprint_metadata(name: str) -> None:
    data = yaml_util.load_yaml(BLUEPRINT_DIR / name)
    # Home Assistant's own checks: schema, domain, every !input declared.
    blueprint = Blueprint(data, path=name, expected_domain="automation", schema=BLUEPRINT_SCHEMA)
    assert blueprint.validate() is None  # this Home Assistant meets min_version
    metadata = blueprint.metadata
    assert metadata["name"].startswith("IoT Hub: ")
    assert metadata["source_url"] == SOURCE_URL + name
    assert metadata["homeassistant"]["min_version"] == "2026.10.0"
    assert len(metadata["description"]) > 100


async def test_missing_required_input_is_not_enabled(hass: HomeAssistant) -> None:
    """The checks that automations are on mean something: a broken instance is not."""
    await _automation(hass, OFFLINE, {}, expect="unavailable")


# --- Device offline --------------------------------------------------------------------


async def test_device_offline_with_real_connectivity_sensor(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    phone: str,
    pixel: list[ServiceCall],
    family: list[ServiceCall],
) -> None:
    """A device that goes silent: "last seen" is its last message, not when it went off."""
    freezer.move_to(T0)
    entry = make_entry(options={"offline_timeout": 1})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)  # at 14:00:00
    await wait_for_value(hass, ESP_CONN, "on")
    assert "last_seen" not in hass.states.get(ESP_CONN).attributes
    esp = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_ESP32_001"), entry.entry_id
    )
    assert esp is not None

    # A short delay: a jump of a minute or more of the frozen clock looks like a
    # keep-alive timeout to the MQTT client (the default delay is tested below).
    await _automation(
        hass,
        OFFLINE,
        {
            "connectivity_sensors": [ESP_CONN],
            "offline_delay": {"hours": 0, "minutes": 0, "seconds": 30},
            "phones": [phone],
            "notify_actions": ["family"],
        },
    )

    # Silent for the offline timeout (a minute): IoT Hub marks it offline at 14:01.
    await _tick(hass, freezer, timedelta(seconds=30))
    await _tick(hass, freezer, timedelta(seconds=31))
    offline = await wait_for_value(hass, ESP_CONN, "off")
    assert _local(offline.last_changed.isoformat()).startswith("14:01")
    assert offline.attributes["last_seen"] == "2026-11-23T22:00:00+00:00"
    await _tick(hass, freezer, timedelta(seconds=20))
    assert pixel == []
    assert family == []

    await _tick(hass, freezer, timedelta(seconds=15))
    expected = {
        "title": "IoT Hub",
        "message": "ESP32_001 is offline (last seen 14:00).",
        "data": {
            "tag": "iot_hub_offline_binary_sensor_esp32_001_connectivity",
            "group": "iot_hub_devices",
            "url": f"/config/devices/device/{esp.id}",
            "clickAction": f"/config/devices/device/{esp.id}",
        },
    }
    assert [call.data for call in pixel] == [expected]
    assert [call.data for call in family] == [expected]

    # Back online: same tag, so it replaces the offline notification.
    freezer.tick(timedelta(seconds=20))
    await mosquitto.publish("iot/sensors/ESP32_001/data", SEED_002_ESP32)
    online = await wait_for_value(hass, ESP_CONN, "on")
    assert "last_seen" not in online.attributes
    await hass.async_block_till_done()
    assert len(pixel) == 2
    assert pixel[1].data["message"] == "ESP32_001 is back online after 1 min."
    assert pixel[1].data["data"] == expected["data"]
    assert [call.data for call in family] == [expected, pixel[1].data]


async def test_device_offline_short_outage_and_long_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    family: list[ServiceCall],
) -> None:
    """A sensor state set directly, with the last_seen attribute IoT Hub gives it when off."""
    freezer.move_to(T0)
    sensor = "binary_sensor.garage_node_connectivity"
    attributes = {"device_class": "connectivity", "friendly_name": "Garage node"}
    hass.states.async_set(sensor, "on", attributes)
    await _automation(
        hass,
        OFFLINE,
        {
            "connectivity_sensors": [sensor],  # default delay: 5 minutes
            "notify_actions": "notify.family",  # a plain string, as YAML users may write
            "title": "Garage",
        },
    )

    # Back within the delay: no offline message, and so no "back online" either.
    hass.states.async_set(sensor, "off", attributes)
    await _tick(hass, freezer, timedelta(minutes=4, seconds=50))
    hass.states.async_set(sensor, "on", attributes)
    await _tick(hass, freezer, timedelta(minutes=10))
    assert family == []

    # Off at 14:15, last heard of yesterday at 13:55.
    hass.states.async_set(sensor, "off", {**attributes, "last_seen": "2026-11-22T21:55:00+00:00"})
    await _tick(hass, freezer, timedelta(minutes=4, seconds=50))
    assert family == []
    await _tick(hass, freezer, timedelta(seconds=11))
    assert [call.data for call in family] == [
        {
            "title": "Garage",
            "message": "Garage node is offline (last seen yesterday 13:55).",
            "data": {
                "tag": "iot_hub_offline_binary_sensor_garage_node_connectivity",
                "group": "iot_hub_devices",
                "url": "/config/devices/dashboard",
                "clickAction": "/config/devices/dashboard",
            },
        }
    ]
    await _tick(hass, freezer, timedelta(minutes=59, seconds=59))
    hass.states.async_set(sensor, "on", attributes)
    await hass.async_block_till_done()
    assert family[-1].data["message"] == "Garage node is back online after 1 h 5 min."
    assert len(family) == 2

    # Off again at 15:20; the attribute is read when the notification goes out (here it
    # arrives after the state), and an older day shows its date.
    hass.states.async_set(sensor, "off", attributes)
    await _tick(hass, freezer, timedelta(minutes=1))
    hass.states.async_set(sensor, "off", {**attributes, "last_seen": "2026-11-20T17:05:00Z"})
    await _tick(hass, freezer, timedelta(minutes=4))
    assert family[-1].data["message"] == "Garage node is offline (last seen 2026-11-20 09:05)."
    assert len(family) == 3


async def test_device_offline_without_back_online_message(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: list[ServiceCall],
) -> None:
    freezer.move_to(T0)
    sensor = "binary_sensor.attic_connectivity"
    attributes = {"device_class": "connectivity", "friendly_name": "Attic"}
    hass.states.async_set(sensor, "on", attributes)
    await _automation(
        hass,
        OFFLINE,
        {
            "connectivity_sensors": [sensor],
            "offline_delay": {"minutes": 1},
            "notify_back_online": False,
            "notify_actions": ["notify.mobile_app_pixel_7"],
        },
    )
    hass.states.async_set(sensor, "off", attributes)
    await _tick(hass, freezer, timedelta(minutes=1, seconds=1))
    assert [call.data["message"] for call in pixel] == ["Attic is offline (last seen 14:00)."]
    await _tick(hass, freezer, timedelta(minutes=10))
    hass.states.async_set(sensor, "on", attributes)
    await hass.async_block_till_done()
    assert len(pixel) == 1


# --- Surveillance ----------------------------------------------------------------------


async def _setup_arming(hass: HomeAssistant, *, armed: bool) -> None:
    assert await async_setup_component(
        hass,
        "input_boolean",
        {"input_boolean": {"surveillance": {"name": "Surveillance", "initial": armed}}},
    )
    await hass.async_block_till_done()


async def test_surveillance_alert_and_disarm_with_real_sensors(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    phone: str,
    pixel: list[ServiceCall],
) -> None:
    await _setup_arming(hass, armed=False)
    assert await hass.config_entries.async_setup(
        make_entry(options={"event_off_delay": 1}).entry_id
    )
    await hass.async_block_till_done()
    # The sensors exist (as when the user picks them in the blueprint form).
    await mosquitto.publish("sensor/motion", _motion_event("m-1"))
    await mosquitto.publish("sensor/pressure", _pressure_event("p-1"))
    await wait_for_value(hass, MOTION, "off")
    await wait_for_value(hass, OCCUPANCY, "off")

    await _automation(
        hass,
        SURVEILLANCE,
        {"sensors": [MOTION, OCCUPANCY], "arming_switch": ARMING, "phones": [phone]},
    )

    # Disarmed: motion is ignored.
    await mosquitto.publish("sensor/motion", _motion_event("m-2"))
    await wait_for_value(hass, MOTION, "on")
    await hass.async_block_till_done()
    assert pixel == []
    await wait_for_value(hass, MOTION, "off")

    # Armed: the pressure mat raises a critical alert with a Disarm button.
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": ARMING}, True)
    await mosquitto.publish("sensor/pressure", _pressure_event("p-2"))
    occupied = await wait_for_value(hass, OCCUPANCY, "on")
    await hass.async_block_till_done()
    assert len(pixel) == 1
    assert pixel[0].data == {
        "title": "Surveillance alert",
        "message": (
            f"Presence: raspberry-1 Occupancy at {_local(occupied.last_changed.isoformat())}."
        ),
        "data": {
            "tag": "iot_hub_surveillance_binary_sensor_raspberry_1_occupancy",
            "group": "iot_hub_surveillance",
            "priority": "high",
            "ttl": 0,
            "importance": "high",
            "channel": "alarm_stream",
            "push": {"interruption-level": "critical"},
            "actions": [{"action": DISARM, "title": "Disarm", "authenticationRequired": True}],
        },
    }

    # Another notification's button does nothing here.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "IOT_HUB_DISARM_OTHER"})
    await hass.async_block_till_done()
    assert hass.states.get(ARMING).state == "on"
    assert len(pixel) == 1

    # Disarm tapped on the phone.
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": DISARM, "tag": "iot_hub_surveillance_binary_sensor_raspberry_1_occupancy"},
    )
    await hass.async_block_till_done()
    assert hass.states.get(ARMING).state == "off"
    assert len(pixel) == 2
    assert pixel[1].data["message"] == "Surveillance disarmed (Surveillance is off)."
    assert pixel[1].data["data"]["group"] == "iot_hub_surveillance"

    # And disarmed it stays quiet.
    await wait_for_value(hass, OCCUPANCY, "off")
    await mosquitto.publish("sensor/motion", _motion_event("m-3"))
    await wait_for_value(hass, MOTION, "on")
    await hass.async_block_till_done()
    assert len(pixel) == 2


async def test_surveillance_time_window_schedule_and_non_critical(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: list[ServiceCall],
    family: list[ServiceCall],
) -> None:
    freezer.move_to(T0)  # 14:00 local
    await _setup_arming(hass, armed=True)
    pir = "binary_sensor.hall_pir"
    attributes = {"device_class": "motion", "friendly_name": "Hall PIR"}
    hass.states.async_set(pir, "off", attributes)
    hass.states.async_set("schedule.nights", "on")
    await _automation(
        hass,
        SURVEILLANCE,
        {
            "sensors": [pir],
            "arming_switch": ARMING,
            "window_start": "22:00:00",
            "window_end": "06:00:00",
            "schedule_entity": "schedule.nights",
            "critical": False,
            "notify_actions": ["mobile_app_pixel_7", "notify.family"],
        },
    )

    async def motion() -> None:
        hass.states.async_set(pir, "on", attributes)
        await hass.async_block_till_done()
        hass.states.async_set(pir, "off", attributes)
        await hass.async_block_till_done()

    await motion()  # 14:00: outside the window
    assert pixel == []

    freezer.move_to("2026-11-24 07:30:00+00:00")  # 23:30 local
    await motion()
    assert len(pixel) == 1
    assert pixel[0].data["message"] == "Motion: Hall PIR at 23:30:00."
    data = pixel[0].data["data"]
    assert data["push"] == {"interruption-level": "time-sensitive"}
    assert data["channel"] == "IoT Hub surveillance"
    assert (data["priority"], data["ttl"]) == ("high", 0)
    assert data["actions"][0]["action"] == DISARM
    assert [call.data for call in family] == [pixel[0].data]

    hass.states.async_set("schedule.nights", "off")
    await motion()  # in the window, but the schedule is off
    assert len(pixel) == 1
