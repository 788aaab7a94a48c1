"""Probe climate entities: set temperature, heat and off through Home Assistant's actions."""

from collections.abc import Callable
import json

from homeassistant.components.climate import DOMAIN as CLIMATE_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, ATTR_TEMPERATURE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..helpers import record_states, wait_for_state
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from ..thermomaven_cloud.devices import WT09_ID, WT11_ID
from .test_setup import G4, P1, started

PROBE_1 = f"climate.{G4}_probe_1"


def targets(hass: HomeAssistant, entity_id: str) -> list[float | None]:
    """Collect every target the climate entity shows from now on."""
    shown: list[float | None] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            shown.append(event.data["new_state"].attributes.get("temperature"))
            if event.data["entity_id"] == entity_id and event.data["new_state"] is not None
            else None
        ),
    )
    return shown


async def set_temperature(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN,
        "set_temperature",
        {ATTR_ENTITY_ID: entity_id, ATTR_TEMPERATURE: value},
        blocking=True,
    )


async def test_change_target_of_a_running_cook(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The new target shows at once, the command edits the running cook, the receipt keeps it."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await started(hass, make_account_entry, cloud)
    shown = targets(hass, PROBE_1)
    await set_temperature(hass, PROBE_1, 195.4)
    command = cloud.commands[-1]
    assert command.cmd_type == "WT09:cooking:action"
    assert command.cmd_data["cookingAction"] == 1
    assert command.cmd_data["cookUuid"] == "0f8e7d6c5b4a39281706f5e4d3c2b1a0"
    assert command.cmd_data["setParams"] == [{"setTemperature": 1950}]  # whole degrees, °F
    assert command.cmd_error == 0
    await hass.async_block_till_done()
    assert shown[0] == 195  # optimistic, before the receipt
    assert hass.states.get(PROBE_1).attributes["temperature"] == 195
    # The next report confirms it.
    await cloud.publish_status(WT09_ID)
    await wait_for_state(
        hass, f"sensor.{G4}_probe_1_target_temperature", lambda s: s.state == "195.0"
    )
    assert hass.states.get(PROBE_1).attributes["temperature"] == 195


async def test_refused_command_reverts(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A negative receipt reverts the target and raises a translated error."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await started(hass, make_account_entry, cloud)
    # The cook was taken over by another phone: the device refuses our edit (512).
    cloud.probe(WT09_ID, "probe1").start_client = "ios"
    shown = targets(hass, PROBE_1)
    with pytest.raises(HomeAssistantError) as raised:
        await set_temperature(hass, PROBE_1, 180)
    assert raised.value.translation_key == "command_refused"
    assert raised.value.translation_placeholders == {"code": "512"}
    await hass.async_block_till_done()
    assert shown == [180, 203]  # shown, then reverted
    assert hass.states.get(PROBE_1).attributes["temperature"] == 203


async def test_heat_starts_and_off_stops(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """Heat on an idle probe starts a cook at the target; off stops it."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    await started(hass, make_account_entry, cloud)
    entity_id = f"climate.{P1}_probe_1"
    assert hass.states.get(entity_id).state == "off"
    modes = record_states(hass, entity_id)
    await set_temperature(hass, entity_id, 140)
    start = cloud.commands[-1]
    assert start.cmd_data["cookingAction"] == 1
    assert start.cmd_data["setParams"] == [{"setTemperature": 1400}]
    assert start.cmd_error == 0
    await cloud.publish_status(WT11_ID)
    await wait_for_state(hass, entity_id, lambda s: s.state == "heat")
    await hass.services.async_call(
        CLIMATE_DOMAIN, "turn_off", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    stop = cloud.commands[-1]
    assert stop.cmd_data == {
        "probeColor": "probe1",
        "cookingAction": 2,
        "cookUuid": start.cmd_data["cookUuid"],
    }
    assert stop.cmd_error == 0
    await cloud.publish_status(WT11_ID)
    await wait_for_state(hass, entity_id, lambda s: s.state == "off")
    assert modes[-2:] == ["heat", "off"]


async def test_command_to_a_docked_probe(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A docked probe cannot cook: a translated error, nothing sent."""
    await started(hass, make_account_entry, cloud)
    sent = len(cloud.commands)
    with pytest.raises(HomeAssistantError) as raised:
        await set_temperature(hass, f"climate.{G4}_probe_3", 60)
    assert raised.value.translation_key == "probe_unavailable"
    assert len(cloud.commands) == sent


async def test_command_sent_with_the_cloud_body(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The REST body is the documented one: deviceId, deviceType, cmdType, cmdId, cmdData."""
    await started(hass, make_account_entry, cloud)
    await set_temperature(hass, f"climate.{P1}_probe_1", 60)
    request = cloud.requests_to("/app/command/send")[-1]
    body = json.loads(request.body)
    assert list(body) == ["deviceId", "deviceType", "cmdType", "cmdId", "cmdData"]
    assert body["deviceId"] == WT11_ID
    assert body["deviceType"] == "thermometer"
