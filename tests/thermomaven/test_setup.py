"""A ThermoMaven entry against the fake cloud: certificate, MQTT, device list, entities."""

import asyncio
from collections.abc import Callable

from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..helpers import setup_entry, wait_for_state, wait_for_value
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from ..thermomaven_cloud.devices import WT09_ID, WT10_ID, WT11_ID, Device, Probe

G4 = "smoker_g4"


def near(value: float) -> Callable[[State], bool]:
    """Match a numeric state within 0.1 of `value` (states are not rounded)."""
    return lambda s: s.state not in ("unknown", "unavailable") and abs(float(s.state) - value) < 0.1


G1 = "thermomaven_g1_2esa"
P1 = "grill_thermo"


def device_removals(hass: HomeAssistant, count: int) -> asyncio.Future[list[str]]:
    """Return a future of the next `count` registry device removals (their ids)."""
    done: asyncio.Future[list[str]] = hass.loop.create_future()
    removed: list[str] = []

    @callback
    def changed(event: Event[dr.EventDeviceRegistryUpdatedData]) -> None:
        if event.data["action"] == "remove":
            removed.append(event.data["device_id"])
            if len(removed) == count and not done.done():
                done.set_result(removed)
                unsub()

    unsub = hass.bus.async_listen(dr.EVENT_DEVICE_REGISTRY_UPDATED, changed)
    return done


async def started(
    hass: HomeAssistant,
    make_account_entry: Callable[..., MockConfigEntry],
    cloud: FakeThermoMavenCloud,
) -> MockConfigEntry:
    """Set an account entry up; wait for the list's entities and device subscriptions."""
    mark = cloud.mqtt_log_mark()
    entry = make_account_entry()
    await setup_entry(hass, entry)
    await wait_for_value(hass, f"sensor.{G4}_probe_4_cook_state", "idle")
    await wait_for_value(hass, f"sensor.{G1}_probe_1_cook_state", "cooking")
    for device in cloud.devices.values():
        await cloud.wait_for_subscription(device.topic, since=mark)
    return entry


async def test_four_probe_model_and_docked_probe(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The WT09's four probes are child devices of it; probe 3 sits in its dock."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    entry = await started(hass, make_account_entry, cloud)
    registry = dr.async_get(hass)
    parent = registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_{WT09_ID}"), entry.entry_id
    )
    assert parent is not None
    assert (parent.name, parent.model, parent.model_id, parent.manufacturer) == (
        "Smoker G4",
        "ThermoMaven G4",
        "WT09",
        "ThermoMaven",
    )
    children = dr.async_entries_for_parent_device(registry, parent.id)
    assert sorted(child.name for child in children) == [f"Probe {n}" for n in range(1, 5)]
    # Probe 1 cooks: 160.5 °F, target 203 °F, 88 %, times in minutes.
    assert hass.states.get(f"sensor.{G4}_probe_1_temperature").state == "160.5"
    target = hass.states.get(f"sensor.{G4}_probe_1_target_temperature")
    assert (target.state, target.attributes["unit_of_measurement"]) == ("203.0", "°F")
    assert hass.states.get(f"sensor.{G4}_probe_1_ambient_temperature").state == "238.4"
    assert hass.states.get(f"sensor.{G4}_probe_1_battery").state == "88"
    assert hass.states.get(f"sensor.{G4}_probe_1_cook_time").state == "358.0"
    assert hass.states.get(f"sensor.{G4}_probe_1_time_remaining").state == "152.0"
    climate = hass.states.get(f"climate.{G4}_probe_1")
    assert climate.state == "heat"
    assert climate.attributes["current_temperature"] == 160.5
    assert climate.attributes["temperature"] == 203
    # Probe 3 is docked: no temperature, but its target and dock state.
    assert hass.states.get(f"sensor.{G4}_probe_3_cook_state").state == "docked"
    assert hass.states.get(f"binary_sensor.{G4}_probe_3_in_the_dock").state == "on"
    assert hass.states.get(f"sensor.{G4}_probe_3_temperature").state == "unknown"
    assert hass.states.get(f"climate.{G4}_probe_3").state == "off"
    # The thermometer itself: battery; Wi-Fi signal exists, disabled by default.
    assert hass.states.get(f"sensor.{G4}_battery").state == "64"
    rssi = er.async_get(hass).async_get(f"sensor.{G4}_wi_fi_signal")
    assert rssi is not None
    assert rssi.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(f"binary_sensor.{G4}_connectivity").state == "on"


async def test_one_probe_models_and_the_other_topic_shape(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A WT11 on device/…/pub and a WT10 on app/WT10/<id>/sub both report live."""
    entry = await started(hass, make_account_entry, cloud)
    # Subscribed exactly as the list names them (the WT10's shape is app/…/sub).
    assert set(entry.runtime_data.client.subscriptions) == {
        cloud.user_topic,
        f"app/WT10/{WT10_ID}/sub",
        f"device/WT11/{WT11_ID}/pub",
        f"device/WT09/{WT09_ID}/pub",
    }
    cloud.probe(WT10_ID, "probe1").temperature = 1250  # 125.0 °F
    await cloud.publish_status(WT10_ID)
    await wait_for_state(hass, f"sensor.{G1}_probe_1_temperature", near(51.67))
    cloud.probe(WT11_ID, "probe1").temperature = 980
    await cloud.publish_status(WT11_ID)
    await wait_for_state(hass, f"sensor.{P1}_probe_1_temperature", near(36.67))


async def test_celsius_account(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A °C account reports tenths of °C: °C sensors, also after a restart without a login."""
    cloud.set_unit("C")
    entry = await started(hass, make_account_entry, cloud)
    state = hass.states.get(f"sensor.{G4}_probe_1_temperature")
    assert near(71.4)(state)
    assert state.attributes["unit_of_measurement"] == "°C"
    assert hass.states.get(f"climate.{G4}_probe_1").attributes["temperature"] == 95
    assert entry.data["temperature_unit"] == "C"
    # Reloaded with the stored token: no login, the stored unit still applies.
    logins = cloud.logins
    assert await hass.config_entries.async_reload(entry.entry_id)
    cloud.probe(WT09_ID, "probe1").temperature = 1800  # 82.2 °C
    await cloud.wait_for_subscription(cloud.device(WT09_ID).topic)
    await cloud.publish_status(WT09_ID)
    await wait_for_state(hass, f"sensor.{G4}_probe_1_temperature", near(82.2))
    assert cloud.logins == logins


async def test_unsolicited_list_adds_and_removes(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A list at any time adds a probe and a thermometer, and removes one; a probe goes absent."""
    entry = await started(hass, make_account_entry, cloud)
    registry = dr.async_get(hass)
    cloud.add_probe(WT11_ID, Probe("probe2", temperature=900))
    await cloud.publish_status(WT11_ID)
    await cloud.publish_device_list()
    await wait_for_state(hass, f"sensor.{P1}_probe_2_temperature", near(32.22))
    # Probe 2 of the WT09 goes away: absent, not deleted (a report is no proof it is gone).
    cloud.remove_probe(WT09_ID, "probe2")
    await cloud.publish_status(WT09_ID)
    await cloud.publish_device_list()
    await wait_for_value(hass, f"sensor.{G4}_probe_2_temperature", "unavailable")
    identifier = ("iot_hub", f"{entry.entry_id}_{WT09_ID}_probe2")
    assert registry.async_get_child_device_by_identifier(identifier, entry.entry_id)
    # The shared WT10 is unshared: gone with its probe.
    removals = device_removals(hass, 2)  # the thermometer and its probe
    await cloud.remove_device(WT10_ID)
    async with asyncio.timeout(15):
        await removals
    await hass.async_block_till_done()
    assert hass.states.get(f"climate.{G1}_probe_1") is None
    parent = ("iot_hub", f"{entry.entry_id}_{WT10_ID}")
    assert registry.async_get_device_by_identifier(parent, entry.entry_id) is None
    # A new thermometer appears with its probes.
    await cloud.add_device(
        Device("216510650011111111", "WTB1AA0000000009", "Patio", "WT11", [Probe("probe1")])
    )
    await wait_for_value(hass, "sensor.patio_probe_1_cook_state", "idle")


async def test_reconnect_requests_the_lists(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """After an MQTT outage the lists are asked for again; values are kept meanwhile."""
    await started(hass, make_account_entry, cloud)
    asked = len(cloud.requests_to("/app/device/share/my/device/list"))
    assert asked >= 1
    await cloud.stop_mqtt()
    await wait_for_value(hass, "binary_sensor.thermomaven_u_example_com_cloud_connection", "off")
    # Within the grace period the last values stay.
    assert hass.states.get(f"sensor.{G4}_probe_1_temperature").state != "unavailable"
    mark = cloud.mqtt_log_mark()
    await cloud.start_mqtt()
    await cloud.wait_for_subscription(cloud.user_topic, since=mark)
    await wait_for_value(hass, "binary_sensor.thermomaven_u_example_com_cloud_connection", "on")
    await cloud.wait_for_requests("/app/device/share/my/device/list", asked + 1)
