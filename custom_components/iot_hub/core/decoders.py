"""Turn raw MQTT payloads into typed results or a typed rejection.

Every `decode_*` function is pure and never raises, whatever the bytes: a
payload is either a `Reading`, `Event`, `Status` or `Alert`, or a `Rejected`
saying why not (its `reason` is a diagnostics key, its `detail` is short).
"""

from collections.abc import Mapping
from datetime import datetime
import functools
import math
import re
from typing import Any, Final
import unicodedata

import orjson

from .metrics import Metric, metric_for
from .models import (
    Alert,
    DeviceModel,
    DeviceStatus,
    Event,
    EventType,
    Reading,
    Rejected,
    Rejection,
    Status,
)
from .timestamps import parse_device_time

__all__ = [
    "DHT11_DEVICE_ID",
    "DHT11_RANGES",
    "MAX_PAYLOAD_BYTES",
    "Rejected",
    "Rejection",
    "decode_dht11",
    "decode_dht11_status",
    "decode_event",
    "decode_iot_alert",
    "decode_iot_data",
    "decode_iot_status",
    "parse_json_object",
    "valid_device_id",
]

# Anything larger is not a sensor reading; refuse before parsing.
MAX_PAYLOAD_BYTES: Final = 64 * 1024
# The DHT11 family has one device, on fixed topics (seed 000).
DHT11_DEVICE_ID: Final = "dht11"
# What a DHT11 can measure (datasheet): outside it, a reading is a wiring or
# firmware fault, not weather.
DHT11_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "temperature": (0.0, 50.0),
    "humidity": (0.0, 100.0),
}
MAX_DEVICE_ID_LENGTH: Final = 64
# Longer event ids are refused: the deduplicator keeps thousands of them.
MAX_EVENT_ID_LENGTH: Final = 128
# Cap on strings copied from a payload into a result (firmware, source...).
_MAX_TEXT = 128
# Cap on payload text quoted in a rejection's detail.
_MAX_QUOTE = 40
_MAX_DETAIL = 120

_FIRMWARE_KEYS: Final = ("firmware", "firmware_version", "version_firmware", "fw")
_MODEL_KEYS: Final = ("model", "device_type", "type_dispositif")
_TIME_KEY: Final = "timestamp"
# (model, words a model string may contain, prefixes a device id may start with)
_MODEL_HINTS: Final = (
    (DeviceModel.ESP32, ("esp32",), ("esp32",)),
    (DeviceModel.RASPBERRY_PI, ("raspberry", "rpi"), ("raspberry", "rpi_", "rpi-")),
)
# Keys of an `iot/sensors/{id}/data` payload that are not values.
_ENVELOPE_KEYS: Final = frozenset(
    {"device_id", "device_mac", "type", _TIME_KEY, *_FIRMWARE_KEYS, *_MODEL_KEYS}
)
# Where nested payloads keep their values: seed 002 (Raspberry Pi) and seed 004.
_VALUE_CONTAINERS: Final = ("sensors", "data")

_STATUS_WORDS: Final[Mapping[str, DeviceStatus]] = {
    "online": DeviceStatus.ONLINE,
    "connected": DeviceStatus.ONLINE,
    "active": DeviceStatus.ONLINE,
    "actif": DeviceStatus.ONLINE,
    "activo": DeviceStatus.ONLINE,
    "offline": DeviceStatus.OFFLINE,
    "disconnected": DeviceStatus.OFFLINE,
    "inactive": DeviceStatus.OFFLINE,
    "inactif": DeviceStatus.OFFLINE,
    "inactivo": DeviceStatus.OFFLINE,
    "error": DeviceStatus.ERROR,
    "erreur": DeviceStatus.ERROR,
    "maintenance": DeviceStatus.MAINTENANCE,
}
_STATUS_KEYS: Final = ("status", "state", "connection_status")

_EVENT_TYPES: Final[Mapping[str, EventType]] = {member.value: member for member in EventType}

# A decimal number written as a string ("21.5", "-3", "1e3"); no "nan", "inf", "1_0".
_NUMERIC_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_MAX_NUMERIC_TEXT = 32
# Unicode categories refused in a device id: controls, format characters,
# surrogates, line and paragraph separators.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


# ------------------------------------------------------------------ helpers


def _quote(value: object) -> str:
    """Render payload text (or a type name) short and printable, for a detail."""
    text = value if isinstance(value, str) else type(value).__name__
    short = text[:_MAX_QUOTE] + ("…" if len(text) > _MAX_QUOTE else "")
    return short.encode("unicode_escape").decode("ascii")[: _MAX_DETAIL - 20]


def _kind(value: object) -> str:
    return type(value).__name__


def _text(value: object, limit: int | None = _MAX_TEXT) -> str | None:
    """Copy a string from a payload: str (stripped, capped), or a (non-bool) number."""
    if isinstance(value, str):
        text = value.strip()
        return (text if limit is None else text[:limit]) or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # orjson keeps integers to 64 bits: str() is safe.
        return str(value)[:_MAX_TEXT]
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    return None


def parse_json_object(payload: bytes) -> dict[str, Any] | Rejected:
    """Parse a size-capped JSON object (orjson: NaN, Infinity and 1e999 are invalid)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Rejected(Rejection.TOO_LARGE, f"{len(payload)} bytes")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        return Rejected(Rejection.INVALID_JSON, str(err)[:_MAX_DETAIL])
    if not isinstance(data, dict):
        return Rejected(Rejection.NOT_AN_OBJECT, _kind(data))
    return data


def valid_device_id(value: object) -> str | None:
    """`value` if it can name a device (and sit in a topic level), else None.

    A non-empty str of at most 64 characters, without `/`, `#`, `+`, control or
    format characters, and without surrounding whitespace.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_DEVICE_ID_LENGTH:
        return None
    # The same few ids come with every message: remember the verdict.
    return _checked_device_id(value)


@functools.lru_cache(maxsize=4096)
def _checked_device_id(value: str) -> str | None:
    if value != value.strip() or any(char in "/#+" for char in value):
        return None
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in value):
        return None
    return value


def _number(
    key: str, value: object, bounds: tuple[float, float], *, text: bool
) -> float | Rejected:
    """`value` as a finite float within `bounds` (strings only when `text`)."""
    number: float
    if isinstance(value, bool):
        # bool is an int subclass; "true" is no temperature.
        return Rejected(Rejection.WRONG_TYPE, f"{_quote(key)} is bool")
    if isinstance(value, int | float):
        # orjson keeps integers to 64 bits (larger ones become floats): no overflow.
        number = float(value)
    elif (
        text
        and isinstance(value, str)
        and len(value) <= _MAX_NUMERIC_TEXT
        and _NUMERIC_TEXT.fullmatch(value.strip())
    ):
        number = float(value)
    else:
        return Rejected(Rejection.WRONG_TYPE, f"{_quote(key)} is {_kind(value)}")
    if not math.isfinite(number):
        return Rejected(Rejection.NOT_FINITE, _quote(key))
    if not bounds[0] <= number <= bounds[1]:
        return Rejected(Rejection.OUT_OF_RANGE, f"{_quote(key)}={number}")
    return number


def _metric_value(key: str, value: object, metric: Metric) -> float | Rejected:
    return _number(key, value, (metric.minimum, metric.maximum), text=True)


def _firmware(*containers: Mapping[str, Any]) -> str | None:
    for container in containers:
        for key in _FIRMWARE_KEYS:
            value = container.get(key)
            if value is not None and (firmware := _text(value)) is not None:
                return firmware
    return None


def _device_time(*containers: Mapping[str, Any]) -> datetime | None:
    for container in containers:
        value = container.get(_TIME_KEY)
        if value is not None and (moment := parse_device_time(value)) is not None:
            return moment
    return None


def _topic_device(topic_device_id: str) -> str | Rejected:
    device_id = valid_device_id(topic_device_id)
    if device_id is None:
        return Rejected(Rejection.INVALID_DEVICE_ID, _quote(topic_device_id))
    return device_id


def _check_payload_device(data: Mapping[str, Any], device_id: str) -> Rejected | None:
    """In the `iot` family the topic names the device; a payload id must agree."""
    claimed = data.get("device_id")
    if claimed is None or claimed == device_id:
        return None
    return Rejected(Rejection.DEVICE_ID_MISMATCH, f"payload says {_quote(claimed)}")


def _iot_object(topic_device_id: str, payload: bytes) -> tuple[str, dict[str, Any]] | Rejected:
    device_id = _topic_device(topic_device_id)
    if isinstance(device_id, Rejected):
        return device_id
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    mismatch = _check_payload_device(data, device_id)
    if mismatch is not None:
        return mismatch
    return device_id, data


# ------------------------------------------------------------------ DHT11 (seed 000)


def decode_dht11(payload: bytes) -> Reading | Rejected:
    """Decode `dht11/sensor/data`: `{"temperature": 25.5, "humidity": 60}` (seed 000).

    Either value may be missing (or null), not both; each must be a JSON number
    within what a DHT11 measures (0..50 °C, 0..100 %). Other keys are ignored.
    """
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    values: dict[str, float] = {}
    for key, bounds in DHT11_RANGES.items():
        value = data.get(key)
        if value is None:
            continue
        number = _number(key, value, bounds, text=False)
        if isinstance(number, Rejected):
            return number
        values[key] = number
    if not values:
        return Rejected(Rejection.NO_VALUES)
    return Reading(
        device_id=DHT11_DEVICE_ID,
        values=values,
        model=DeviceModel.DHT11,
        device_time=_device_time(data),
        ignored_keys=tuple(
            key[:_MAX_TEXT] for key in data if key not in DHT11_RANGES and key != _TIME_KEY
        ),
    )


def decode_dht11_status(payload: bytes) -> Status | Rejected:
    """Decode `dht11/status`: `{"status": "online"}` or plain `online` / `offline`."""
    return _decode_status(DHT11_DEVICE_ID, payload, check_device=False)


# ------------------------------------------------------------------ events (seed 001)


def decode_event(payload: bytes) -> Event | Rejected:
    """Decode a seed 001 envelope (`sensor/motion`, `sensor/pressure`).

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
        pressure = _text(body.get("pressure"))
        duration_ms = _duration_ms(body.get("duration_ms"))

    source = data.get("source")
    return Event(
        event_id=event_id,
        device_id=device_id,
        type=event_type,
        source=source[:_MAX_TEXT] if isinstance(source, str) else None,
        presence=presence,
        pressure=pressure,
        duration_ms=duration_ms,
        device_time=parse_device_time(data.get(_TIME_KEY)),
        data=body,
    )


def _event_id(value: object) -> str | Rejected:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Rejected(Rejection.MISSING_FIELD, "event_id")
    if not isinstance(value, str):
        return Rejected(Rejection.WRONG_TYPE, f"event_id is {_kind(value)}")
    if len(value) > MAX_EVENT_ID_LENGTH:
        return Rejected(Rejection.OUT_OF_RANGE, f"event_id longer than {MAX_EVENT_ID_LENGTH}")
    return value


def _required_device_id(value: object) -> str | Rejected:
    if value is None:
        return Rejected(Rejection.MISSING_FIELD, "device_id")
    device_id = valid_device_id(value)
    if device_id is None:
        return Rejected(Rejection.INVALID_DEVICE_ID, _quote(value))
    return device_id


def _event_type(value: object) -> EventType | Rejected:
    if value is None:
        return Rejected(Rejection.MISSING_FIELD, "type")
    # A list or dict would raise TypeError in a dict lookup (DECISIONS.md).
    if not isinstance(value, str):
        return Rejected(Rejection.WRONG_TYPE, f"type is {_kind(value)}")
    event_type = _EVENT_TYPES.get(value.strip().upper())
    if event_type is None:
        return Rejected(Rejection.UNKNOWN_EVENT_TYPE, _quote(value))
    return event_type


def _event_body(value: object) -> dict[str, Any] | Rejected:
    if value is None:
        return {}
    if not isinstance(value, dict):
        return Rejected(Rejection.WRONG_TYPE, f"data is {_kind(value)}")
    return value


def _duration_ms(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return int(value)


# ------------------------------------------------------------------ iot family (seeds 002, 004)


def decode_iot_data(topic_device_id: str, payload: bytes) -> Reading | Rejected:
    """Decode `iot/sensors/{device_id}/data` (seed 002, and seed 004's `sensor_data`).

    Flat `{"device_id", "temperature", "humidity", "timestamp"}`, nested
    `{"device_id", "sensors": {...}, "timestamp"}` or `{"type": "sensor_data",
    "data": {...}}`. Values are found by metric name or alias; one invalid
    value of a known metric refuses the message, unknown keys are listed in
    `ignored_keys`.
    """
    checked = _iot_object(topic_device_id, payload)
    if isinstance(checked, Rejected):
        return checked
    device_id, data = checked

    containers: list[tuple[str, Mapping[str, Any]]] = [("", data)]
    for name in _VALUE_CONTAINERS:
        nested = data.get(name)
        if nested is None:
            continue
        if not isinstance(nested, dict):
            return Rejected(Rejection.WRONG_TYPE, f"{name} is {_kind(nested)}")
        containers.append((f"{name}.", nested))

    values: dict[str, float] = {}
    ignored: list[str] = []
    for prefix, container in containers:
        top_level = not prefix
        for key, value in container.items():
            if key in _ENVELOPE_KEYS or (top_level and key in _VALUE_CONTAINERS):
                continue
            metric = metric_for(key)
            if metric is None or metric.key in values:
                ignored.append(f"{prefix}{key}"[:_MAX_TEXT])
                continue
            if value is None:
                continue
            number = _metric_value(key, value, metric)
            if isinstance(number, Rejected):
                return number
            values[metric.key] = number
    if not values:
        return Rejected(Rejection.NO_VALUES)

    nested_containers = [container for _, container in containers[1:]]
    return Reading(
        device_id=device_id,
        values=values,
        model=_model(device_id, data, *nested_containers),
        firmware=_firmware(data, *nested_containers),
        device_time=_device_time(data, *nested_containers),
        ignored_keys=tuple(ignored),
    )


def _model(device_id: str, *containers: Mapping[str, Any]) -> DeviceModel:
    """Tell the model from what the payload says, else from what the id suggests."""
    for container in containers:
        for key in _MODEL_KEYS:
            value = container.get(key)
            if value is not None and (model := _model_from_text(value)) is not None:
                return model
    return _model_from_id(device_id)


@functools.lru_cache(maxsize=4096)
def _model_from_id(device_id: str) -> DeviceModel:
    # The same few ids come with every message: remember the verdict.
    return _model_from_text(device_id, prefix=True) or DeviceModel.GENERIC


def _model_from_text(value: object, *, prefix: bool = False) -> DeviceModel | None:
    if not isinstance(value, str):
        return None
    text = value.lower()
    for model, words, prefixes in _MODEL_HINTS:
        if text.startswith(prefixes) if prefix else any(word in text for word in words):
            return model
    return None


def decode_iot_status(topic_device_id: str, payload: bytes) -> Status | Rejected:
    """Decode `iot/devices/{device_id}/status`: JSON `{"status": ...}` or a plain word.

    Words: online/offline, connected/disconnected, active/inactive, actif/inactif,
    activo/inactivo, error/erreur, maintenance (any case). Health values in the
    JSON (battery, rssi...) are kept when valid and dropped otherwise.
    """
    device_id = _topic_device(topic_device_id)
    if isinstance(device_id, Rejected):
        return device_id
    return _decode_status(device_id, payload, check_device=True)


def _decode_status(device_id: str, payload: bytes, *, check_device: bool) -> Status | Rejected:
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Rejected(Rejection.TOO_LARGE, f"{len(payload)} bytes")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Rejected(Rejection.UNKNOWN_STATUS, "not UTF-8 text")
    if not text.startswith(("{", '"')):
        return _status(device_id, text)
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as err:
        return Rejected(Rejection.INVALID_JSON, str(err)[:_MAX_DETAIL])
    return _status_from_json(device_id, parsed, check_device=check_device)


def _status_from_json(
    device_id: str, parsed: str | dict[str, Any], *, check_device: bool
) -> Status | Rejected:
    # JSON text starting with a quote is a string, with a brace an object.
    if isinstance(parsed, str):
        return _status(device_id, parsed)
    if check_device and (mismatch := _check_payload_device(parsed, device_id)) is not None:
        return mismatch
    word = next((parsed[key] for key in _STATUS_KEYS if parsed.get(key) is not None), None)
    status = (
        _status(device_id, word)
        if isinstance(word, str)
        else Rejected(Rejection.UNKNOWN_STATUS, "no status" if word is None else _kind(word))
    )
    if isinstance(status, Rejected):
        return status
    values: dict[str, float] = {}
    for key, value in parsed.items():
        metric = metric_for(key)
        if metric is None or metric.key in values or value is None:
            continue
        number = _metric_value(key, value, metric)
        if not isinstance(number, Rejected):
            values[metric.key] = number
    return Status(
        device_id=device_id,
        status=status.status,
        values=values,
        firmware=_firmware(parsed),
        device_time=parse_device_time(parsed.get(_TIME_KEY)),
    )


def _status(device_id: str, word: str) -> Status | Rejected:
    status = _STATUS_WORDS.get(word.strip().lower())
    if status is None:
        return Rejected(Rejection.UNKNOWN_STATUS, _quote(word))
    return Status(device_id=device_id, status=status)


def decode_iot_alert(topic_device_id: str, payload: bytes) -> Alert | Rejected:
    """Decode `iot/alerts/{device_id}`: a JSON object, kept whole in `data`.

    `level` (or `severity`) and `message` (or `msg`) are picked out when they
    are strings (or numbers); `timestamp` gives the device time.
    """
    checked = _iot_object(topic_device_id, payload)
    if isinstance(checked, Rejected):
        return checked
    device_id, data = checked
    return Alert(
        device_id=device_id,
        level=_first_text(data, "level", "severity"),
        message=_first_text(data, "message", "msg", limit=None),
        device_time=parse_device_time(data.get(_TIME_KEY)),
        data=data,
    )


def _first_text(data: Mapping[str, Any], *keys: str, limit: int | None = _MAX_TEXT) -> str | None:
    for key in keys:
        if (text := _text(data.get(key), limit)) is not None:
            return text
    return None
