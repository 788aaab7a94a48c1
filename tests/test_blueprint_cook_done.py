"""The cook done blueprint, run as an automation in a real Home Assistant.

The probes' climate entities are played by the test (`hass.states.async_set`, as the
ThermoMaven climate platform reports them: `heat` while cooking, the probe's temperature
in `current_temperature`, the target in `temperature`). Two of them belong to probe
devices registered with a temperature sensor, whose unit the message shows. Phones
record what their notify actions receive.
"""

from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from .test_blueprint_incident import Phone, _phone
from .test_blueprints import COOK_DONE, _automation


@dataclass
class Probe:
    """A probe's climate entity, as the ThermoMaven climate platform reports it."""

    entity_id: str
    name: str
    device_id: str | None = None

    @property
    def tag(self) -> str:
        return f"iot_hub_cook_{self.entity_id.replace('.', '_')}"

    async def report(
        self, hass: HomeAssistant, current: float | None, target: float | None, mode: str = "heat"
    ) -> None:
        """One report of the probe; returns once the automation is done with it."""
        hass.states.async_set(
            self.entity_id,
            mode,
            {
                "hvac_modes": ["off", "heat"],
                "current_temperature": current,
                "temperature": target,
                "friendly_name": self.name,
            },
        )
        await hass.async_block_till_done()


def _register_probe(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    slot: int,
    unit: str,
) -> Probe:
    """A probe device with its climate entity and its temperature sensor (in `unit`)."""
    entry = MockConfigEntry(domain="iot_hub", title="ThermoMaven")
    entry.add_to_hass(hass)
    name = f"Grill probe {slot}"
    device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={("iot_hub", f"{entry.entry_id}_TM01_probe{slot}")},
        name=name,
    )
    climate = entity_registry.async_get_or_create(
        "climate",
        "iot_hub",
        f"TM01_probe{slot}_cook",
        suggested_object_id=f"grill_probe_{slot}",
        config_entry=entry,
        device_id=device.id,
    )
    sensor = entity_registry.async_get_or_create(
        "sensor",
        "iot_hub",
        f"TM01_probe{slot}_temperature",
        suggested_object_id=f"grill_probe_{slot}_temperature",
        config_entry=entry,
        device_id=device.id,
    )
    hass.states.async_set(
        sensor.entity_id, "20.0", {"unit_of_measurement": unit, "device_class": "temperature"}
    )
    return Probe(climate.entity_id, name, device.id)


@pytest.fixture
def probe_1(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> Probe:
    """climate.grill_probe_1, on a probe device whose sensors are in °C."""
    return _register_probe(hass, device_registry, entity_registry, 1, "°C")


@pytest.fixture
def probe_2(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> Probe:
    """climate.grill_probe_2, on a probe device whose sensors are in °C."""
    return _register_probe(hass, device_registry, entity_registry, 2, "°C")


@pytest.fixture
def pixel(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> Phone:
    """A Companion app phone: notify.mobile_app_pixel_7."""
    return _phone(hass, device_registry, entity_registry, "Pixel 7", "pixel-7-device-id")


@pytest.fixture
def family(hass: HomeAssistant) -> list[ServiceCall]:
    """What notify.family (a notify group, say) received."""
    return async_mock_service(hass, "notify", "family")


async def _cook_done(hass: HomeAssistant, probes: list[Probe], **inputs: Any) -> None:
    await _automation(
        hass, COOK_DONE, {"probes": [probe.entity_id for probe in probes], **inputs}, "Cook done"
    )


def _messages(phone: Phone) -> list[str]:
    return [data["message"] for data in phone.notifications]


async def test_notifies_once_per_crossing_of_the_target(
    hass: HomeAssistant, probe_1: Probe, pixel: Phone
) -> None:
    await probe_1.report(hass, 21.0, 63.0)
    await _cook_done(hass, [probe_1], phones=[pixel.device_id])

    for current in (40.0, 55.5, 62.9):
        await probe_1.report(hass, current, 63.0)
    assert pixel.notifications == []

    await probe_1.report(hass, 63.0, 63.0)
    link = f"/config/devices/device/{probe_1.device_id}"
    assert pixel.notifications == [
        {
            "title": "Cooking",
            "message": "Grill probe 1 has reached its target: 63 °C (target 63 °C).",
            "data": {
                "tag": "iot_hub_cook_climate_grill_probe_1",
                "group": "iot_hub_cooking",
                "url": link,
                "clickAction": link,
                "priority": "high",
                "ttl": 0,
                "importance": "high",
                "channel": "IoT Hub cooking",
                "push": {"interruption-level": "time-sensitive"},
            },
        }
    ]

    # Still at or above the target: quiet, whatever the reports.
    for current in (63.4, 64.0, 63.0, 66.25):
        await probe_1.report(hass, current, 63.0)
    assert len(pixel.notifications) == 1

    # Below again (resting, lid opened), then across once more: a new notification,
    # with the same tag, so it replaces the first one on the phone.
    await probe_1.report(hass, 61.5, 63.0)
    await probe_1.report(hass, 62.0, 63.0)
    assert len(pixel.notifications) == 1
    await probe_1.report(hass, 63.35, 63.0)
    assert _messages(pixel)[1:] == ["Grill probe 1 has reached its target: 63.4 °C (target 63 °C)."]
    assert pixel.notifications[1]["data"]["tag"] == probe_1.tag


async def test_degrees_before_notifies_early(
    hass: HomeAssistant, probe_1: Probe, pixel: Phone
) -> None:
    await probe_1.report(hass, 21.0, 63.0)
    await _cook_done(hass, [probe_1], phones=[pixel.device_id], degrees_before=5)

    await probe_1.report(hass, 57.9, 63.0)
    assert pixel.notifications == []
    await probe_1.report(hass, 58.0, 63.0)
    assert _messages(pixel) == ["Grill probe 1 is 5 °C from its target: 58 °C (target 63 °C)."]

    # Reaching the target itself is the same crossing: no second notification.
    for current in (60.0, 63.0, 65.0):
        await probe_1.report(hass, current, 63.0)
    assert len(pixel.notifications) == 1

    # Raising the target puts the probe below the threshold again.
    await probe_1.report(hass, 65.0, 74.0)
    await probe_1.report(hass, 69.5, 74.0)
    assert _messages(pixel)[1:] == [
        "Grill probe 1 is 4.5 °C from its target: 69.5 °C (target 74 °C)."
    ]


async def test_quiet_while_off(hass: HomeAssistant, probe_1: Probe, pixel: Phone) -> None:
    await probe_1.report(hass, 21.0, 63.0, "off")
    await _cook_done(hass, [probe_1], phones=[pixel.device_id])

    for current in (40.0, 63.0, 70.0, 62.0, 71.0):
        await probe_1.report(hass, current, 63.0, "off")
    # No probe in the meat, no target: nothing to compare.
    await probe_1.report(hass, None, None, "heat")
    await probe_1.report(hass, 70.0, None, "heat")
    assert pixel.notifications == []

    # A cook started with the probe already past its target: it has reached it.
    await probe_1.report(hass, 70.0, 63.0, "heat")
    assert _messages(pixel) == ["Grill probe 1 has reached its target: 70 °C (target 63 °C)."]

    # Cook ended while above the target, and started again below it.
    await probe_1.report(hass, 70.0, 63.0, "off")
    await probe_1.report(hass, 70.0, 80.0, "heat")
    assert len(pixel.notifications) == 1


async def test_already_there_when_the_automation_starts(
    hass: HomeAssistant, probe_1: Probe, pixel: Phone
) -> None:
    """A restart or reload mid-cook does not notify again."""
    await probe_1.report(hass, 64.0, 63.0)
    await _cook_done(hass, [probe_1], phones=[pixel.device_id])
    await probe_1.report(hass, 64.5, 63.0)
    assert pixel.notifications == []
    await probe_1.report(hass, 62.0, 63.0)
    await probe_1.report(hass, 63.0, 63.0)
    assert len(pixel.notifications) == 1


async def test_two_probes_notify_independently(
    hass: HomeAssistant,
    probe_1: Probe,
    probe_2: Probe,
    pixel: Phone,
    family: list[ServiceCall],
) -> None:
    probe_2.name = "Brisket"
    await probe_1.report(hass, 30.0, 57.0)
    await probe_2.report(hass, 30.0, 95.0)
    await _cook_done(hass, [probe_1, probe_2], phones=[pixel.device_id], notify_actions=["family"])

    await probe_1.report(hass, 57.5, 57.0)
    await probe_2.report(hass, 80.0, 95.0)
    assert _messages(pixel) == ["Grill probe 1 has reached its target: 57.5 °C (target 57 °C)."]

    # Probe 1 staying above does not hold probe 2 back, nor the other way round.
    await probe_1.report(hass, 58.0, 57.0)
    await probe_2.report(hass, 95.1, 95.0)
    await probe_1.report(hass, 58.5, 57.0)
    await probe_2.report(hass, 96.0, 95.0)
    assert _messages(pixel) == [
        "Grill probe 1 has reached its target: 57.5 °C (target 57 °C).",
        "Brisket has reached its target: 95.1 °C (target 95 °C).",
    ]
    assert [data["data"]["tag"] for data in pixel.notifications] == [probe_1.tag, probe_2.tag]
    assert [call.data for call in family] == pixel.notifications

    # Probe 1 dips and comes back: only probe 1 is notified again.
    await probe_1.report(hass, 56.0, 57.0)
    await probe_1.report(hass, 57.0, 57.0)
    assert [data["data"]["tag"] for data in pixel.notifications] == [
        probe_1.tag,
        probe_2.tag,
        probe_1.tag,
    ]


async def test_fahrenheit_critical_and_lowered_target(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    family: list[ServiceCall],
) -> None:
    """Temperatures in °F; critical notifications; a target lowered below the probe."""
    probe = _register_probe(hass, device_registry, entity_registry, 3, "°F")
    await probe.report(hass, 140.0, 203.0)
    await _cook_done(hass, [probe], notify_actions="notify.family", critical=True, title="Smoker")

    await probe.report(hass, 150.0, 145.0)
    assert len(family) == 1
    assert family[0].data["title"] == "Smoker"
    assert family[0].data["message"] == (
        "Grill probe 3 has reached its target: 150 °F (target 145 °F)."
    )
    data = family[0].data["data"]
    assert data["push"] == {
        "interruption-level": "critical",
        "sound": {"name": "default", "critical": 1, "volume": 1.0},
    }
    assert (data["channel"], data["priority"], data["ttl"]) == ("alarm_stream", "high", 0)


async def test_probe_without_device(hass: HomeAssistant, family: list[ServiceCall]) -> None:
    """No device to take the unit from: degrees without a unit; the link opens its history."""
    probe = Probe("climate.smoker_probe", "Smoker probe")
    await probe.report(hass, 20.0, 90.0)
    await _cook_done(hass, [probe], notify_actions=["family"], degrees_before=2.5)
    await probe.report(hass, 87.5, 90.0)
    assert [call.data["message"] for call in family] == [
        "Smoker probe is 2.5° from its target: 87.5° (target 90°)."
    ]
    assert family[0].data["data"]["url"] == "/history?entity_id=climate.smoker_probe"
