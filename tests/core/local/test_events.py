"""Event envelopes: `sensor/motion` and `sensor/pressure`.

Seed payloads are copied verbatim from the document; where it builds the
payload in code (the pressure mat's Python callback), the test does the same.
"""

from datetime import UTC, datetime
import json
import time
from typing import Any
import uuid

import pytest

from custom_components.iot_hub.core.local.events import decode_event
from custom_components.iot_hub.core.local.models import Event, EventType, Rejected, Rejection

from ...helpers import rejected

# "Format de vos événements MQTT" (topic sensor/motion).
SEED_001_FORMAT = b"""{
  "event_id": "uuid",
  "device_id": "raspberry-1",
  "source": "sensor-motion",
  "type": "MOTION_DETECTED",
  "data": {
    "presence": true,
    "gpio_pin": 17
  },
  "timestamp": 1234567890
}"""
# "Format de conversion": "Votre format MQTT".
SEED_001_CONVERSION_INPUT = b"""{
  "event_id": "abc-123",
  "device_id": "raspberry-1",
  "source": "sensor-motion",
  "type": "MOTION_DETECTED",
  "data": {
    "presence": true,
    "gpio_pin": 17
  },
  "timestamp": 1734567890.123
}"""
# "Format envoyé au backend": what the bridge posts over HTTP, not an MQTT envelope.
SEED_001_BACKEND_FORMAT = b"""{
  "type": "motion_detected",
  "device_id": "raspberry-1",
  "details": {
    "event_id": "abc-123",
    "source": "sensor-motion",
    "data": {
      "presence": true,
      "gpio_pin": 17
    },
    "original_timestamp": 1734567890.123,
    "mqtt_topic": "sensor/motion"
  }
}"""
# Test 1: docker-compose exec mqtt-broker mosquitto_pub -t "sensor/motion" -m '{ ... }'
SEED_001_MOSQUITTO_PUB = b"""{
    "event_id": "test-123",
    "device_id": "raspberry-1",
    "source": "sensor-motion",
    "type": "MOTION_DETECTED",
    "data": {"presence": true},
    "timestamp": 1234567890
  }"""
# Test 3: the document elides the rest of the envelope with "...".
SEED_001_MOSQUITTO_PUB_ELIDED = b'{"type": "MOTION_DETECTED", ...}'


def test_seed_001_format() -> None:
    event = decode_event(SEED_001_FORMAT)
    assert event == Event(
        event_id="uuid",
        device_id="raspberry-1",
        type=EventType.MOTION_DETECTED,
        source="sensor-motion",
        presence=True,
        device_time=datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC),
        data={"presence": True, "gpio_pin": 17},
    )


def test_seed_001_conversion_input() -> None:
    event = decode_event(SEED_001_CONVERSION_INPUT)
    assert isinstance(event, Event)
    assert event.event_id == "abc-123"
    assert event.device_id == "raspberry-1"
    assert event.type is EventType.MOTION_DETECTED
    assert event.source == "sensor-motion"
    assert event.presence is True
    assert event.pressure is None
    assert event.duration_ms is None
    assert event.device_time == datetime(2024, 12, 19, 0, 24, 50, 123000, tzinfo=UTC)
    assert event.data == {"presence": True, "gpio_pin": 17}


def test_seed_001_backend_format_is_not_an_envelope() -> None:
    assert decode_event(SEED_001_BACKEND_FORMAT) == Rejected(Rejection.MISSING_FIELD, "event_id")


def test_seed_001_mosquitto_pub() -> None:
    event = decode_event(SEED_001_MOSQUITTO_PUB)
    assert event == Event(
        event_id="test-123",
        device_id="raspberry-1",
        type=EventType.MOTION_DETECTED,
        source="sensor-motion",
        presence=True,
        device_time=datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC),
        data={"presence": True},
    )


def test_seed_001_mosquitto_pub_elided() -> None:
    rejected(decode_event(SEED_001_MOSQUITTO_PUB_ELIDED), Rejection.INVALID_JSON)


DEVICE_ID = "raspberry-1"


def test_seed_001_pressure_sensor_code() -> None:
    # "Code Python du capteur": the pressure mat's callback, as the document writes it.
    before = time.time()
    event = {
        "event_id": str(uuid.uuid4()),
        "device_id": DEVICE_ID,
        "source": "sensor-pressure",
        "type": "PRESSURE_DETECTED",  # ← Le bridge le convertira en "button_pressed"
        "data": {"pressure": "high", "duration_ms": 500},
        "timestamp": time.time(),
    }
    result = decode_event(json.dumps(event).encode())
    assert isinstance(result, Event)
    assert result.event_id == event["event_id"]
    assert result.device_id == "raspberry-1"
    assert result.type is EventType.PRESSURE_DETECTED
    assert result.source == "sensor-pressure"
    assert result.presence is None
    assert result.pressure == "high"
    assert result.duration_ms == 500
    assert result.device_time is not None
    assert abs(result.device_time.timestamp() - before) < 60
    assert result.data == {"pressure": "high", "duration_ms": 500}


@pytest.mark.parametrize(
    ("data", "presence"),
    [
        ({"presence": False}, False),
        ({"presence": True}, True),
        ({}, True),
        (None, True),
        ({"presence": "no"}, True),
        ({"presence": 0}, True),
    ],
)
def test_motion_presence(data: dict[str, Any] | None, presence: bool) -> None:
    envelope: dict[str, Any] = {"event_id": "e", "device_id": "pi", "type": "MOTION_DETECTED"}
    if data is not None:
        envelope["data"] = data
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert event.presence is presence
    assert event.data == (data or {})
    assert event.source is None
    assert event.device_time is None


@pytest.mark.parametrize(
    ("data", "pressure", "duration_ms"),
    [
        ({"pressure": "low", "duration_ms": 0}, "low", 0),
        ({"pressure": 512, "duration_ms": 12.9}, "512", 12),
        ({"pressure": 1.5}, "1.5", None),
        ({"duration_ms": -1}, None, None),
        ({"duration_ms": "500"}, None, None),
        ({"duration_ms": True}, None, None),
        ({"pressure": ["high"], "duration_ms": None}, None, None),
        ({"pressure": True}, None, None),
        ({"pressure": "  "}, None, None),
    ],
)
def test_pressure_fields(
    data: dict[str, Any], pressure: str | None, duration_ms: int | None
) -> None:
    envelope = {"event_id": "e", "device_id": "pi", "type": "PRESSURE_DETECTED", "data": data}
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert (event.pressure, event.duration_ms, event.presence) == (pressure, duration_ms, None)


def test_event_type_is_case_insensitive() -> None:
    envelope = {"event_id": "e", "device_id": "pi", "type": " motion_detected "}
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert event.type is EventType.MOTION_DETECTED


def test_event_source_is_capped() -> None:
    envelope = {"event_id": "e", "device_id": "pi", "type": "MOTION_DETECTED", "source": "s" * 500}
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert event.source == "s" * 128


_ENVELOPE = {"event_id": "e-1", "device_id": "raspberry-1", "type": "MOTION_DETECTED"}


@pytest.mark.parametrize(
    ("changes", "reason", "detail"),
    [
        ({"event_id": None}, Rejection.MISSING_FIELD, "event_id"),
        ({"event_id": "  "}, Rejection.MISSING_FIELD, "event_id"),
        ({"event_id": 123}, Rejection.WRONG_TYPE, "event_id is int"),
        ({"event_id": "x" * 129}, Rejection.OUT_OF_RANGE, "event_id longer than 128"),
        ({"device_id": None}, Rejection.MISSING_FIELD, "device_id"),
        ({"device_id": "home/pi"}, Rejection.INVALID_DEVICE_ID, "home/pi"),
        ({"device_id": 7}, Rejection.INVALID_DEVICE_ID, "int"),
        ({"type": None}, Rejection.MISSING_FIELD, "type"),
        # DECISIONS.md: a list or dict "type" must not reach a dict lookup.
        ({"type": ["MOTION_DETECTED"]}, Rejection.WRONG_TYPE, "type is list"),
        ({"type": {"a": 1}}, Rejection.WRONG_TYPE, "type is dict"),
        ({"type": 3}, Rejection.WRONG_TYPE, "type is int"),
        ({"type": "DOOR_OPENED"}, Rejection.UNKNOWN_EVENT_TYPE, "DOOR_OPENED"),
        ({"type": "bad\nline"}, Rejection.UNKNOWN_EVENT_TYPE, "bad\\nline"),
        ({"data": [1]}, Rejection.WRONG_TYPE, "data is list"),
        ({"data": "presence"}, Rejection.WRONG_TYPE, "data is str"),
    ],
)
def test_event_rejections(changes: dict[str, Any], reason: Rejection, detail: str) -> None:
    envelope = {**_ENVELOPE, **changes}
    envelope = {key: value for key, value in envelope.items() if value is not None}
    assert decode_event(json.dumps(envelope).encode()) == Rejected(reason, detail)


def test_unknown_event_type_detail_is_truncated() -> None:
    envelope = {**_ENVELOPE, "type": "T" * 10_000}
    result = rejected(decode_event(json.dumps(envelope).encode()), Rejection.UNKNOWN_EVENT_TYPE)
    assert result.detail == "T" * 40 + "\\u2026"
    assert len(result.detail) <= 100


def test_event_not_an_object() -> None:
    assert decode_event(b"[]") == Rejected(Rejection.NOT_AN_OBJECT, "list")
