"""What IoT Hub knows about one device, and which entity keys each message changes."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.iot_hub.core.local.device_state import (
    KEY_CONNECTIVITY,
    KEY_LAST_SEEN,
    KEY_MOTION,
    KEY_OCCUPANCY,
    DeviceState,
)
from custom_components.iot_hub.core.local.models import (
    DeviceModel,
    DeviceStatus,
    Event,
    EventType,
    Reading,
    Status,
)

NOW = datetime(2025, 1, 20, 10, 30, tzinfo=UTC)
DEVICE_TIME = datetime(2025, 1, 20, 10, 29, tzinfo=UTC)


def test_online_follows_news_status_and_silence() -> None:
    state = DeviceState("ESP32_001")
    assert state.online is None  # nothing heard yet
    assert state.seen(NOW) == {KEY_LAST_SEEN, KEY_CONNECTIVITY}
    assert state.online is True
    assert state.seen(NOW + timedelta(seconds=5)) == {KEY_LAST_SEEN}
    state.silent = True
    assert state.online is False
    # A message after a silence brings the device back.
    assert state.seen(NOW + timedelta(minutes=20)) == {KEY_LAST_SEEN, KEY_CONNECTIVITY}
    assert state.online is True
    assert state.last_seen == NOW + timedelta(minutes=20)


def test_status_alone_tells_reachability() -> None:
    state = DeviceState("ESP32_001")
    offline = Status("ESP32_001", DeviceStatus.OFFLINE)
    assert state.apply_status(offline) == {KEY_CONNECTIVITY}
    assert state.online is False
    assert state.apply_status(offline) == set()
    assert state.apply_status(Status("ESP32_001", DeviceStatus.MAINTENANCE)) == {KEY_CONNECTIVITY}
    assert state.online is True


def test_status_values_and_device_time() -> None:
    state = DeviceState("ESP32_001")
    first = Status("ESP32_001", DeviceStatus.ONLINE, {"battery": 80.0}, device_time=DEVICE_TIME)
    assert state.apply_status(first) == {"battery", KEY_CONNECTIVITY}
    # A status without a clock keeps the last one; unchanged values change nothing.
    assert state.apply_status(Status("ESP32_001", DeviceStatus.ONLINE, {"battery": 80.0})) == set()
    assert state.device_time == DEVICE_TIME
    assert state.values == {"battery": 80.0}


def test_reading_reports_only_changed_values() -> None:
    state = DeviceState("dht11")
    reading = Reading("dht11", {"temperature": 21.0, "humidity": 40.0}, device_time=DEVICE_TIME)
    assert state.apply_reading(reading) == {"temperature", "humidity"}
    assert state.apply_reading(Reading("dht11", {"temperature": 21.0, "humidity": 41.0})) == {
        "humidity"
    }
    assert state.values == {"temperature": 21.0, "humidity": 41.0}
    assert state.device_time == DEVICE_TIME


@pytest.mark.parametrize(
    ("known", "offered", "learned", "changed"),
    [
        (None, DeviceModel.GENERIC, DeviceModel.GENERIC, True),
        (None, DeviceModel.ESP32, DeviceModel.ESP32, True),
        (DeviceModel.GENERIC, DeviceModel.ESP32, DeviceModel.ESP32, True),
        # "Generic" is a guess: it never replaces a model the device told.
        (DeviceModel.ESP32, DeviceModel.GENERIC, DeviceModel.ESP32, False),
        (DeviceModel.ESP32, DeviceModel.ESP32, DeviceModel.ESP32, False),
        (DeviceModel.ESP32, None, DeviceModel.ESP32, False),
    ],
)
def test_learn_a_better_model(
    known: DeviceModel | None, offered: DeviceModel | None, learned: DeviceModel, changed: bool
) -> None:
    state = DeviceState("node-7", model=known)
    assert state.learn(offered, None) is changed
    assert state.model is learned


def test_learn_a_new_firmware() -> None:
    state = DeviceState("node-7")
    assert state.learn(None, "1.0") is True
    assert state.learn(None, "1.0") is False
    assert state.learn(None, None) is False
    assert state.learn(None, "1.1") is True
    assert state.firmware == "1.1"


def test_motion_event_and_its_attributes() -> None:
    state = DeviceState("raspberry-1")
    event = Event("e-1", "raspberry-1", EventType.MOTION_DETECTED, "pir", presence=True)
    assert state.apply_event(event) == KEY_MOTION
    assert state.event_on(KEY_MOTION) is True
    assert state.event_on(KEY_OCCUPANCY) is None
    assert state.event_attributes[KEY_MOTION] == {
        "event_id": "e-1",
        "source": "pir",
        "presence": True,
    }
    gone = Event(
        "e-2", "raspberry-1", EventType.MOTION_DETECTED, presence=False, device_time=DEVICE_TIME
    )
    state.apply_event(gone)
    assert state.event_on(KEY_MOTION) is False
    assert state.event_attributes[KEY_MOTION] == {
        "event_id": "e-2",
        "source": None,
        "device_time": "2025-01-20T10:29:00+00:00",
        "presence": False,
    }


def test_pressure_event_and_its_attributes() -> None:
    state = DeviceState("raspberry-1")
    event = Event(
        "p-1", "raspberry-1", EventType.PRESSURE_DETECTED, pressure="high", duration_ms=500
    )
    assert state.apply_event(event) == KEY_OCCUPANCY
    assert state.event_on(KEY_OCCUPANCY) is True
    assert state.event_attributes[KEY_OCCUPANCY] == {
        "event_id": "p-1",
        "source": None,
        "pressure": "high",
        "duration_ms": 500,
    }


@pytest.mark.parametrize("key", [KEY_MOTION, KEY_OCCUPANCY])
def test_momentary_states_restore_and_end(key: str) -> None:
    state = DeviceState("raspberry-1")
    assert state.event_on(key) is None
    state.restore_event(key)
    assert state.event_on(key) is True
    state.end_event(key)
    assert state.event_on(key) is False
    other = KEY_OCCUPANCY if key == KEY_MOTION else KEY_MOTION
    assert state.event_on(other) is None  # one momentary state never moves the other


def test_diagnostics() -> None:
    state = DeviceState("ESP32_001", model=DeviceModel.ESP32, firmware="1.4.2")
    state.seen(NOW)
    state.apply_reading(Reading("ESP32_001", {"temperature": 23.5}, device_time=DEVICE_TIME))
    assert state.diagnostics() == {
        "model": DeviceModel.ESP32,
        "firmware": "1.4.2",
        "values": {"temperature": 23.5},
        "last_seen": "2025-01-20T10:30:00+00:00",
        "device_time": "2025-01-20T10:29:00+00:00",
        "status": None,
        "online": True,
        "motion": None,
        "occupancy": None,
    }
