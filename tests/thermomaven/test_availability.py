"""Outages and hostile input: grace period, offline thermometers, setup errors, bad messages."""

from collections.abc import Callable
from datetime import timedelta
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.iot_hub.thermomaven.runtime import GRACE_SECONDS

from ..helpers import wait_for_state, wait_for_value
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from ..thermomaven_cloud.devices import WT09_ID, WT11_ID
from .test_diagnostics import CLOUD_CONNECTION
from .test_setup import G4, P1, near, started

TEMPERATURE = f"sensor.{G4}_probe_1_temperature"


async def test_outage_keeps_values_for_the_grace_period(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Values stay through a short outage; after the grace period: unavailable, one line each."""
    await started(hass, make_account_entry, cloud)
    before = hass.states.get(TEMPERATURE).state
    await cloud.stop_mqtt()
    await wait_for_value(hass, CLOUD_CONNECTION, "off")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=GRACE_SECONDS - 10))
    await hass.async_block_till_done()
    assert hass.states.get(TEMPERATURE).state == before
    caplog.clear()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=GRACE_SECONDS + 1))
    await wait_for_value(hass, TEMPERATURE, "unavailable")
    lost = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(lost) == 1
    assert lost[0].levelno == logging.WARNING
    caplog.clear()
    await cloud.start_mqtt()
    await wait_for_state(hass, TEMPERATURE, lambda s: s.state != "unavailable")
    back = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert len(back) == 1


async def test_offline_thermometer(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A switched-off base station: connectivity off, its probes unavailable, then back."""
    await started(hass, make_account_entry, cloud)
    cloud.set_online(WT11_ID, False)
    await cloud.publish_status(WT11_ID)
    await wait_for_value(hass, f"binary_sensor.{P1}_connectivity", "off")
    assert hass.states.get(f"sensor.{P1}_probe_1_temperature").state == "unavailable"
    assert hass.states.get(f"climate.{P1}_probe_1").state == "unavailable"
    assert hass.states.get(f"sensor.{P1}_battery").state == "unavailable"
    cloud.set_online(WT11_ID, True)
    await cloud.publish_status(WT11_ID)
    await wait_for_state(hass, f"sensor.{P1}_probe_1_temperature", near(22.22))


@pytest.mark.parametrize(
    ("mode", "state"),
    [("refuse", ConfigEntryState.SETUP_RETRY), ("503", ConfigEntryState.SETUP_RETRY)],
)
async def test_cloud_unreachable_at_setup(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mode: str,
    state: ConfigEntryState,
) -> None:
    """The cloud is down when Home Assistant starts: setup is retried later."""
    await cloud.set_unreachable(mode)
    entry = make_account_entry()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is state
    assert entry.reason is not None
    assert "cannot be reached" in entry.reason


async def test_sign_error_at_setup(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """Code 40000 (the data centre refuses the app's signature) is an error, not a retry."""
    cloud.fail_next("40000", "Sign error", count=10)
    entry = make_account_entry()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


async def test_hostile_messages_are_counted(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """Garbage, deep nesting and another user's list change nothing and are counted."""
    entry = await started(hass, make_account_entry, cloud)
    runtime = entry.runtime_data
    await cloud.link.publish(cloud.user_topic, b"\xff{not json")
    await cloud.link.publish(cloud.user_topic, b"[" * 300 + b"]" * 300)
    listing = await cloud.publish_device_list()
    foreign = {**listing, "userId": "999", "cmdData": {"devices": []}}
    await cloud.publish(cloud.user_topic, foreign)
    # A report after them shows the path is still alive and nothing was removed.
    cloud.probe(WT09_ID, "probe1").temperature = 1500
    await cloud.publish_status(WT09_ID)
    await wait_for_state(hass, TEMPERATURE, near(65.56))
    assert runtime.rejected == {"invalid_json": 1, "not_an_object": 1, "other_user": 1}
    assert hass.states.get(f"climate.{P1}_probe_1").state == "off"


async def test_only_stale_devices_can_be_deleted(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """Only what the account no longer has can be deleted by hand: thermometers and probes."""
    assert await async_setup_component(hass, "config", {})
    entry = await started(hass, make_account_entry, cloud)
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_{WT09_ID}"), entry.entry_id
    )
    assert device is not None
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device.id,
        }
    )
    answer = await client.receive_json()
    assert not answer["success"]
    # Left over from an earlier run: not in the account any more.
    stale = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("iot_hub", f"{entry.entry_id}_4242")}
    )
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": stale.id,
        }
    )
    answer = await client.receive_json()
    assert answer["success"]
    # A probe still reporting cannot be deleted; one the thermometer no longer reports can.
    probe = registry.async_get_child_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_{WT09_ID}_probe2"), entry.entry_id
    )
    assert probe is not None
    remove = {
        "type": "config/device_registry/remove_config_entry",
        "config_entry_id": entry.entry_id,
        "device_id": probe.id,
    }
    await client.send_json_auto_id(remove)
    assert not (await client.receive_json())["success"]
    cloud.remove_probe(WT09_ID, "probe2")
    await cloud.publish_status(WT09_ID)
    await wait_for_value(hass, f"sensor.{G4}_probe_2_temperature", "unavailable")
    await client.send_json_auto_id(remove)
    assert (await client.receive_json())["success"]
    assert hass.states.get(f"sensor.{G4}_probe_2_temperature") is None
