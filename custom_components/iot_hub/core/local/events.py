"""Event envelopes (`sensor/motion`, `sensor/pressure`) of PIR sensors and pressure mats."""

from collections.abc import Mapping
import math
from typing import Any, Final

from .common import (
    MAX_TEXT,
    TIME_KEY,
    as_text,
    kind_name,
    parse_json_object,
    quote,
    valid_device_id,
)
from .models import Event, EventType, Rejected, Rejection
from .timestamps import parse_device_time

# Longer event ids are refused: the deduplicator keeps thousands of them.
MAX_EVENT_ID_LENGTH: Final = 128
_EVENT_TYPES: Final[Mapping[str, EventType]] = {member.value: member for member in EventType}


def decode_event(payload: bytes) -> Event | Rejected:
    """Decode an event envelope (`sensor/motion`, `sensor/pressure`).

    `{"event_id", "device_id", "source", "type", "data", "timestamp"}`: the id,
    device id and type are required; `data` is optional but must be an object.
    """
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    event_id = _event_id(data.get("event_id"))
    if isinstance(event_id, Rejected):
        return event_id
    device_id = _required_device_id(data.get("device_id"))
    if isinstance(device_id, Rejected):
        return device_id
    event_type = _event_type(data.get("type"))
    if isinstance(event_type, Rejected):
        return event_type
    body = _event_body(data.get("data"))
    if isinstance(body, Rejected):
        return body

    presence: bool | None = None
    pressure: str | None = None
    duration_ms: int | None = None
    if event_type is EventType.MOTION_DETECTED:
        presence = body["presence"] if isinstance(body.get("presence"), bool) else True
    else:
        pressure = as_text(body.get("pressure"))
        duration_ms = _duration_ms(body.get("duration_ms"))

    source = data.get("source")
    return Event(
        event_id=event_id,
        device_id=device_id,
        type=event_type,
        source=source[:MAX_TEXT] if isinstance(source, str) else None,
        presence=presence,
        pressure=pressure,
        duration_ms=duration_ms,
        device_time=parse_device_time(data.get(TIME_KEY)),
        data=body,
    )


def _event_id(value: object) -> str | Rejected:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Rejected(Rejection.MISSING_FIELD, "event_id")
    if not isinstance(value, str):
        return Rejected(Rejection.WRONG_TYPE, f"event_id is {kind_name(value)}")
    if len(value) > MAX_EVENT_ID_LENGTH:
        return Rejected(Rejection.OUT_OF_RANGE, f"event_id longer than {MAX_EVENT_ID_LENGTH}")
    return value


def _required_device_id(value: object) -> str | Rejected:
    if value is None:
        return Rejected(Rejection.MISSING_FIELD, "device_id")
    device_id = valid_device_id(value)
    if device_id is None:
        return Rejected(Rejection.INVALID_DEVICE_ID, quote(value))
    return device_id


def _event_type(value: object) -> EventType | Rejected:
    if value is None:
        return Rejected(Rejection.MISSING_FIELD, "type")
    # A list or dict would raise TypeError in a dict lookup (DECISIONS.md).
    if not isinstance(value, str):
        return Rejected(Rejection.WRONG_TYPE, f"type is {kind_name(value)}")
    event_type = _EVENT_TYPES.get(value.strip().upper())
    if event_type is None:
        return Rejected(Rejection.UNKNOWN_EVENT_TYPE, quote(value))
    return event_type


def _event_body(value: object) -> dict[str, Any] | Rejected:
    if value is None:
        return {}
    if not isinstance(value, dict):
        return Rejected(Rejection.WRONG_TYPE, f"data is {kind_name(value)}")
    return value


def _duration_ms(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)
