"""The incident notification blueprint, run as an automation in a real Home Assistant.

IoT Hub's side is mostly played by the test: it fires the `iot_hub_incident` events
the integration fires, records `iot_hub.acknowledge_incident` and answers it with the
`acknowledged` event. The last test runs it against the real integration and broker.
Two phones (Pixel 7 and iPhone 15) record what they are sent; time is driven with the
frozen clock, never slept.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from .broker import Mosquitto
from .helpers import setup_entry, wait_for_state, wait_for_value
from .test_blueprints import T0, _automation, _install_blueprints

INCIDENT = "incident_notification.yaml"
EVENT = "iot_hub_incident"
ACTION = "mobile_app_notification_action"


async def _settle(hass: HomeAssistant) -> None:
    """Run what is ready until Home Assistant idles.

    `hass.async_block_till_done()` would also wait for the runs that wait for their
    incident's reminders, that is for ever: this returns once nothing is left to run.
    """
    idle = 0
    for _ in range(10_000):
        await asyncio.sleep(0)
        idle = 0 if hass.loop._ready else idle + 1  # type: ignore[attr-defined]
        if idle == 3:
            return
    raise AssertionError("Home Assistant never idled")


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await _settle(hass)


@dataclass
class Phone:
    """A Companion app phone: its registry device and what its notify action received."""

    device_id: str
    calls: list[ServiceCall]

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """What it was sent, clear commands included."""
        return [call.data for call in self.calls]

    def tags(self, message: str) -> list[str]:
        """Tags of the `clear_notification` commands (`message` == that) or of the notifications."""
        return [
            data["data"]["tag"]
            for data in self.notifications
            if (data["message"] == "clear_notification") == (message == "clear_notification")
        ]


def _phone(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    name: str,
    registration_id: str,
) -> Phone:
    """Register a Companion app phone (device, device tracker) and record its notify action."""
    entry = MockConfigEntry(domain="mobile_app", title=name)
    entry.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("mobile_app", registration_id)}, name=name
    )
    entity_registry.async_get_or_create(
        "device_tracker",
        "mobile_app",
        registration_id,
        suggested_object_id=name,
        config_entry=entry,
        device_id=device.id,
    )
    slug = name.lower().replace(" ", "_")
    return Phone(device.id, async_mock_service(hass, "notify", f"mobile_app_{slug}"))


@pytest.fixture
def pixel(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> Phone:
    """Alice's Android phone: notify.mobile_app_pixel_7, device_tracker.pixel_7."""
    return _phone(hass, device_registry, entity_registry, "Pixel 7", "pixel-7-device-id")


@pytest.fixture
def iphone(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry, entity_registry: er.EntityRegistry
) -> Phone:
    """Bob's iPhone: notify.mobile_app_iphone_15, device_tracker.iphone_15."""
    return _phone(hass, device_registry, entity_registry, "iPhone 15", "iphone-15-device-id")


@pytest.fixture
def acks(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of iot_hub.acknowledge_incident (IoT Hub itself is not loaded here)."""
    return async_mock_service(hass, "iot_hub", "acknowledge_incident")


@pytest.fixture
def iot_devices(hass: HomeAssistant, device_registry: dr.DeviceRegistry) -> dict[str, str]:
    """Two IoT Hub devices: registry id by name."""
    entry = MockConfigEntry(domain="iot_hub", title="broker")
    entry.add_to_hass(hass)
    return {
        name: device_registry.async_get_or_create(
            config_entry_id=entry.entry_id, identifiers={("iot_hub", name)}, name=name
        ).id
        for name in ("DHT11", "ESP32_001")
    }


@pytest.fixture
async def alice(hass: HomeAssistant, pixel: Phone) -> Context:
    """The context of events Alice's Companion app fires (mobile_app gives its user's)."""
    user = await hass.auth.async_create_user("Alice")
    assert await async_setup_component(
        hass,
        "person",
        {
            "person": [
                {
                    "id": "alice",
                    "name": "Alice",
                    "user_id": user.id,
                    "device_trackers": ["device_tracker.pixel_7"],
                }
            ]
        },
    )
    await hass.async_block_till_done()
    return Context(user_id=user.id)


async def _setup(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    phones: list[Phone],
    *others: dict[str, Any],
    **inputs: Any,
) -> None:
    """At 14:00 local, one automation from the blueprint (and others, given their inputs)."""
    freezer.move_to(T0)
    await _install_blueprints(hass)
    configs = [
        {
            "id": f"incidents_{index}",
            "alias": f"Incidents {index}",
            "use_blueprint": {"path": f"iot_hub/{INCIDENT}", "input": config},
        }
        for index, config in enumerate(
            [{"phones": [phone.device_id for phone in phones], **inputs}, *others]
        )
    ]
    assert await async_setup_component(hass, "automation", {"automation": configs})
    await hass.async_block_till_done()
    for index in range(len(configs)):
        assert hass.states.get(f"automation.incidents_{index}").state == "on"


STATUS = {"acknowledged": "acknowledged", "resolved": "resolved"}


async def _incident(
    hass: HomeAssistant,
    phase: str = "opened",
    severity: str = "warning",
    incident_id: str = "17",
    device_id: str | None = "dht11-registry-id",
    **extra: Any,
) -> dict[str, Any]:
    """Fire one phase of an incident as IoT Hub does."""
    data = {
        "incident_id": incident_id,
        "phase": phase,
        "status": STATUS.get(phase, "open"),
        "severity": severity,
        "previous_severity": None,
        "kind": "threshold",
        "entry_id": "entry-id",
        "device_id": device_id,
        "source_device_id": "dht11",
        "device_name": "DHT11",
        "entity_id": "binary_sensor.dht11_incident",
        "metric": "temperature",
        "value": 3.0,
        "threshold": 5.0,
        "unit": "°C",
        "title": f"Incident {phase}: DHT11",
        "message": f"DHT11: temperature 3.0 °C is below 5.0 °C ({severity})",
        "opened_at": T0,
        "acknowledged_by": None,
        "note": None,
        "resolve_reason": None,
        **extra,
    }
    hass.bus.async_fire(EVENT, data)
    await _settle(hass)
    return data


async def _tap(
    hass: HomeAssistant, action: str, context: Context | None = None, **data: Any
) -> None:
    """A notification button tapped (the Companion app fires this through its webhook)."""
    hass.bus.async_fire(ACTION, {"action": action, **data}, context=context)
    await _settle(hass)


def _expected(
    phone: Phone, incident_id: str = "17", severity: str = "warning", phase: str = "opened"
) -> dict[str, Any]:
    delivery: dict[str, Any] = (
        {
            "push": {
                "interruption-level": "critical",
                "sound": {"name": "default", "critical": 1, "volume": 1.0},
            },
            "channel": "alarm_stream",
            "priority": "high",
            "ttl": 0,
        }
        if severity in ("critical", "emergency")
        else {"push": {"interruption-level": "active"}}
    )
    return {
        "title": f"Incident {phase}: DHT11",
        "message": f"DHT11: temperature 3.0 °C is below 5.0 °C ({severity})",
        "data": {
            "tag": f"iot_hub_incident_{incident_id}",
            "group": "iot_hub_incidents",
            "url": "/config/devices/device/dht11-registry-id",
            "clickAction": "/config/devices/device/dht11-registry-id",
            "actions": [
                {"action": f"IOT_HUB_ACK_{incident_id}", "title": "Acknowledge"},
                {"action": f"IOT_HUB_SNOOZE_{incident_id}", "title": "Snooze"},
            ],
            **delivery,
            "action_data": {"incident_id": incident_id, "phone": phone.device_id},
        },
    }


def _clear(incident_id: str = "17") -> dict[str, Any]:
    return {"message": "clear_notification", "data": {"tag": f"iot_hub_incident_{incident_id}"}}


# --- Notifications ---------------------------------------------------------------------


async def test_phones_are_required(hass: HomeAssistant) -> None:
    await _automation(hass, INCIDENT, {}, expect="unavailable")


async def test_warning_incident_notifies_every_phone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pixel: Phone, iphone: Phone
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    await _incident(hass)
    # Same tag on both phones; normal delivery (no alarm channel, no priority override).
    assert pixel.notifications == [_expected(pixel)]
    assert iphone.notifications == [_expected(iphone)]
    assert "channel" not in pixel.notifications[0]["data"]
    assert "priority" not in pixel.notifications[0]["data"]


async def test_below_minimum_severity_is_quiet(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pixel: Phone, iphone: Phone
) -> None:
    await _setup(hass, freezer, [pixel, iphone], minimum_severity="critical")
    await _incident(hass, severity="info", incident_id="1")
    await _incident(hass, severity="warning", incident_id="2")
    await _incident(hass, "escalated", severity="warning", incident_id="1")
    await _tick(hass, freezer, timedelta(hours=2))  # and no reminders either
    await _incident(hass, "acknowledged", severity="warning", incident_id="2")
    await _incident(hass, "resolved", severity="warning", incident_id="1")
    assert pixel.calls == []
    assert iphone.calls == []

    # Escalated to the minimum: now it is notified.
    await _incident(hass, "escalated", severity="critical", incident_id="2")
    assert pixel.notifications == [_expected(pixel, "2", "critical", "escalated")]


@pytest.mark.parametrize("severity", ["critical", "emergency"])
async def test_critical_incident_rings_through(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
    severity: str,
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    await _incident(hass, severity=severity)
    assert pixel.notifications == [_expected(pixel, severity=severity)]
    assert iphone.notifications == [_expected(iphone, severity=severity)]
    data = iphone.notifications[0]["data"]
    assert data["push"]["interruption-level"] == "critical"
    assert (data["channel"], data["priority"], data["ttl"]) == ("alarm_stream", "high", 0)


async def test_device_filter(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iot_devices: dict[str, str],
) -> None:
    await _setup(hass, freezer, [pixel], devices=[iot_devices["ESP32_001"]])
    await _incident(hass, device_id=iot_devices["DHT11"], incident_id="1")
    await _incident(hass, "resolved", device_id=iot_devices["DHT11"], incident_id="1")
    assert pixel.calls == []
    await _incident(hass, device_id=iot_devices["ESP32_001"], incident_id="2")
    assert pixel.tags("notification") == ["iot_hub_incident_2"]
    assert pixel.notifications[0]["data"]["url"] == (
        f"/config/devices/device/{iot_devices['ESP32_001']}"
    )


# --- Acknowledge -----------------------------------------------------------------------


async def test_acknowledge_button_acknowledges_and_clears_every_phone(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
    acks: list[ServiceCall],
    alice: Context,
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    await _incident(hass)
    await _tick(hass, freezer, timedelta(minutes=2))

    # Another notification's button, and this one's Snooze, acknowledge nothing.
    await _tap(hass, "IOT_HUB_DISARM_SURVEILLANCE", alice)
    await _tap(hass, "IOT_HUB_ACK_", alice)
    assert acks == []

    # Tapped on Alice's Pixel 7: Android sends back the notification's data, not the
    # phone; the event's context is the user of the app that fired it.
    await _tap(
        hass,
        "IOT_HUB_ACK_17",
        alice,
        tag="iot_hub_incident_17",
        message="DHT11: temperature 3.0 °C is below 5.0 °C (warning)",
        webhook_id="pixel-webhook-id",
    )
    assert [call.data for call in acks] == [
        {"incident_id": "17", "source": "mobile notification (Pixel 7)"}
    ]
    assert len(pixel.calls) == len(iphone.calls) == 1  # nothing cleared before IoT Hub says so

    # IoT Hub acknowledges it and says so.
    await _incident(
        hass, "acknowledged", acknowledged_by="mobile notification (Pixel 7)", title="Ack"
    )
    assert pixel.notifications[1:] == [_clear()]
    assert iphone.notifications[1:] == [_clear()]

    # No reminders for an acknowledged incident.
    await _tick(hass, freezer, timedelta(hours=3))
    assert len(pixel.calls) == len(iphone.calls) == 2


async def test_acknowledge_source_names_the_phone(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
    acks: list[ServiceCall],
    alice: Context,
    device_registry: dr.DeviceRegistry,
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    for incident_id in ("1", "2", "3", "4"):
        await _incident(hass, incident_id=incident_id)

    # iOS sends the notification's action_data back, which names the phone (by the
    # name the user gave it, if any).
    device_registry.async_update_device(iphone.device_id, name_by_user="Bob's iPhone")
    action_data = iphone.notifications[1]["data"]["action_data"]
    await _tap(hass, "IOT_HUB_ACK_2", action_data=action_data)
    # An app that names its registration id.
    await _tap(hass, "IOT_HUB_ACK_3", device_id="pixel-7-device-id")
    # Nothing to tell the phone by (no user behind the event).
    await _tap(hass, "IOT_HUB_ACK_4")
    assert [call.data for call in acks] == [
        {"incident_id": "2", "source": "mobile notification (Bob's iPhone)"},
        {"incident_id": "3", "source": "mobile notification (Pixel 7)"},
        {"incident_id": "4", "source": "mobile notification"},
    ]


# --- Reminders and snooze --------------------------------------------------------------


async def test_reminders_until_acknowledged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    await _incident(hass)
    first = _expected(pixel)

    async def after(delta: timedelta, count: int) -> None:
        """Nothing new until `delta` has passed; then `count` notifications in all."""
        before = len(pixel.calls)
        await _tick(hass, freezer, delta - timedelta(seconds=1))
        assert len(pixel.calls) == before
        await _tick(hass, freezer, timedelta(seconds=1))
        assert pixel.notifications == [first] * count
        assert len(iphone.calls) == count

    await after(timedelta(minutes=5), 2)  # 14:05
    await after(timedelta(minutes=15), 3)  # 14:20
    await after(timedelta(minutes=60), 4)  # 15:20
    await after(timedelta(minutes=60), 5)  # 16:20: the last interval repeats

    await _tick(hass, freezer, timedelta(minutes=30))
    await _incident(hass, "acknowledged")
    assert pixel.notifications[5:] == [_clear()]
    await _tick(hass, freezer, timedelta(hours=5))
    assert len(pixel.calls) == 6
    assert len(iphone.calls) == 6


async def test_custom_intervals_and_reminders_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pixel: Phone
) -> None:
    await _setup(
        hass,
        freezer,
        [pixel],
        {"phones": [pixel.device_id], "reminders": False},
        reminder_intervals="1,2",
    )
    await _incident(hass)
    assert len(pixel.calls) == 2  # one per automation
    for minutes, count in ((1, 3), (2, 4), (2, 5), (2, 6)):
        await _tick(hass, freezer, timedelta(minutes=minutes))
        assert len(pixel.calls) == count
    await _incident(hass, "resolved")
    assert pixel.notifications[-2:] == [_clear(), _clear()]


async def test_snooze_holds_reminders_then_resumes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
) -> None:
    await _setup(hass, freezer, [pixel, iphone], snooze_minutes=30)
    await _incident(hass)
    await _tick(hass, freezer, timedelta(minutes=2))
    await _tap(hass, "IOT_HUB_SNOOZE_17", webhook_id="pixel-webhook-id")
    await _tick(hass, freezer, timedelta(minutes=5))  # 14:07: the 14:05 reminder is held
    await _tick(hass, freezer, timedelta(minutes=24, seconds=59))
    assert len(pixel.calls) == 1
    await _tick(hass, freezer, timedelta(seconds=1))  # 14:32: snooze over
    assert pixel.notifications == [_expected(pixel)] * 2
    assert iphone.notifications == [_expected(iphone)] * 2
    # Then the intervals go on (the next one: 15 minutes).
    await _tick(hass, freezer, timedelta(minutes=14, seconds=59))
    assert len(pixel.calls) == 2
    await _tick(hass, freezer, timedelta(seconds=1))
    assert len(pixel.calls) == 3

    # The incident stayed open all along; resolved, it is cleared and reminders stop.
    await _incident(hass, "resolved")
    assert pixel.notifications[3:] == [_clear()]
    assert iphone.notifications[3:] == [_clear()]
    await _tick(hass, freezer, timedelta(hours=3))
    assert len(pixel.calls) == 4


async def test_resolved_clears_every_phone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pixel: Phone, iphone: Phone
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    await _incident(hass, severity="critical")
    await _tick(hass, freezer, timedelta(minutes=3))
    await _incident(hass, "resolved", severity="critical")
    assert pixel.notifications[1:] == [_clear()]
    assert iphone.notifications[1:] == [_clear()]
    await _tick(hass, freezer, timedelta(hours=3))
    assert len(pixel.calls) == len(iphone.calls) == 2


async def test_escalation_replaces_and_deescalation_follows(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pixel: Phone
) -> None:
    await _setup(hass, freezer, [pixel])
    await _incident(hass)
    await _tick(hass, freezer, timedelta(minutes=3))
    # Escalated: sent again (same tag, so it replaces the first), critical now, and
    # the reminders start over from the escalation.
    await _incident(hass, "escalated", severity="critical", previous_severity="warning")
    assert pixel.notifications == [
        _expected(pixel),
        _expected(pixel, severity="critical", phase="escalated"),
    ]
    await _tick(hass, freezer, timedelta(minutes=4))  # 14:07: not the first run's 14:05
    assert len(pixel.calls) == 2
    await _tick(hass, freezer, timedelta(minutes=1))  # 14:08
    assert len(pixel.calls) == 3
    assert pixel.notifications[2]["data"]["channel"] == "alarm_stream"

    # Back to warning: still open and severe enough, so the reminders go on, as a
    # warning with the latest wording.
    await _incident(hass, "deescalated", severity="warning", previous_severity="critical")
    assert len(pixel.calls) == 3
    await _tick(hass, freezer, timedelta(minutes=15))  # 14:23
    assert len(pixel.calls) == 4
    assert pixel.notifications[3] == _expected(pixel, phase="deescalated")

    # Below the minimum: cleared, and no more reminders.
    await _incident(hass, "deescalated", severity="info", previous_severity="warning")
    assert pixel.notifications[4:] == [_clear()]
    await _tick(hass, freezer, timedelta(hours=3))
    assert len(pixel.calls) == 5


async def test_two_incidents_do_not_interfere(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
    acks: list[ServiceCall],
    alice: Context,
) -> None:
    await _setup(hass, freezer, [pixel, iphone])
    await _incident(hass, incident_id="17")  # 14:00
    await _tick(hass, freezer, timedelta(minutes=1))
    await _incident(hass, incident_id="18", severity="critical")  # 14:01
    await _tick(hass, freezer, timedelta(minutes=1))
    await _tap(hass, "IOT_HUB_SNOOZE_17", alice)  # 14:02: 17 snoozed until 14:32

    await _tick(hass, freezer, timedelta(minutes=4))  # 14:06: 18's reminder only
    assert pixel.tags("notification") == [
        "iot_hub_incident_17",
        "iot_hub_incident_18",
        "iot_hub_incident_18",
    ]

    await _tap(hass, "IOT_HUB_ACK_18", alice)  # 14:06
    assert [call.data for call in acks] == [
        {"incident_id": "18", "source": "mobile notification (Pixel 7)"}
    ]
    await _incident(hass, "acknowledged", incident_id="18", severity="critical")
    assert pixel.tags("clear_notification") == ["iot_hub_incident_18"]
    assert iphone.tags("clear_notification") == ["iot_hub_incident_18"]

    await _tick(hass, freezer, timedelta(minutes=26))  # 14:32: 17's snooze is over
    assert pixel.tags("notification")[3:] == ["iot_hub_incident_17"]
    await _tick(hass, freezer, timedelta(minutes=15))  # 14:47: 17 again, never 18
    assert pixel.tags("notification")[3:] == ["iot_hub_incident_17"] * 2
    await _incident(hass, "resolved", incident_id="17")
    assert pixel.tags("clear_notification") == ["iot_hub_incident_18", "iot_hub_incident_17"]
    await _tick(hass, freezer, timedelta(hours=3))
    assert len(pixel.calls) == 7
    assert len(iphone.calls) == 7


# --- With IoT Hub itself ---------------------------------------------------------------


async def test_with_the_integration(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
    pixel: Phone,
    iphone: Phone,
    alice: Context,
) -> None:
    """A cold DHT11 opens an incident; Acknowledge on the Pixel acknowledges it in IoT Hub."""
    problem = "binary_sensor.dht11_incident"
    events = async_capture_events(hass, EVENT)
    freezer.move_to(T0)
    await setup_entry(hass, make_entry(options={"clean_session": True}))
    await _setup(hass, freezer, [pixel, iphone])

    # 3 °C is below the default 5 °C for the default minute.
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 3, "humidity": 60}')
    await wait_for_value(hass, "sensor.dht11_temperature", "3.0")
    await _tick(hass, freezer, timedelta(seconds=31))
    await _tick(hass, freezer, timedelta(seconds=30))
    state = await wait_for_value(hass, problem, "on")
    await _settle(hass)
    incident_id = str(state.attributes["incident_id"])
    [opened] = events
    assert opened.data["message"] == "DHT11: temperature 3 °C is below 5 °C (warning)"
    [notification] = pixel.notifications
    assert notification["title"] == opened.data["title"]
    assert notification["message"] == opened.data["message"]
    assert notification["data"]["tag"] == f"iot_hub_incident_{incident_id}"
    assert notification["data"]["url"] == f"/config/devices/device/{opened.data['device_id']}"
    assert len(iphone.calls) == 1

    await _tap(hass, f"IOT_HUB_ACK_{incident_id}", alice, tag=f"iot_hub_incident_{incident_id}")
    state = await wait_for_state(hass, problem, lambda s: s.attributes["status"] == "acknowledged")
    assert state.attributes["acknowledged_by"] == "mobile notification (Pixel 7)"
    await _settle(hass)
    assert events[-1].data["phase"] == "acknowledged"
    assert pixel.notifications[1:] == [_clear(incident_id)]
    assert iphone.notifications[1:] == [_clear(incident_id)]
    await _tick(hass, freezer, timedelta(seconds=30))
    assert len(pixel.calls) == 2
