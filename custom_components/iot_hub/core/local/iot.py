"""The IoT platform topics: `iot/sensors/{id}/data`, `iot/devices/{id}/status`, `iot/alerts/{id}`.

In this layout the topic names the device; an id in the payload must agree.
"""

from collections.abc import Mapping
import functools
from typing import Any, Final

from .common import (
    FIRMWARE_KEYS,
    MAX_TEXT,
    TIME_KEY,
    as_text,
    check_payload_device,
    find_device_time,
    find_firmware,
    kind_name,
    metric_value,
    parse_json_object,
    topic_device,
)
from .metrics import metric_for
from .models import Alert, DeviceModel, Reading, Rejected, Rejection, Status
from .status import decode_status
from .timestamps import parse_device_time

_MODEL_KEYS: Final = ("model", "device_type", "type_dispositif")
# (model, words a model string may contain, prefixes a device id may start with)
_MODEL_HINTS: Final = (
    (DeviceModel.ESP32, ("esp32",), ("esp32",)),
    (DeviceModel.RASPBERRY_PI, ("raspberry", "rpi"), ("raspberry", "rpi_", "rpi-")),
)
# Keys of an `iot/sensors/{id}/data` payload that are not values.
_ENVELOPE_KEYS: Final = frozenset(
    {"device_id", "device_mac", "type", TIME_KEY, *FIRMWARE_KEYS, *_MODEL_KEYS}
)
# Where nested payloads keep their values: the Raspberry Pi's `sensors`, health monitors' `data`.
_VALUE_CONTAINERS: Final = ("sensors", "data")


def _iot_object(topic_device_id: str, payload: bytes) -> tuple[str, dict[str, Any]] | Rejected:
    device_id = topic_device(topic_device_id)
    if isinstance(device_id, Rejected):
        return device_id
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    mismatch = check_payload_device(data, device_id)
    if mismatch is not None:
        return mismatch
    return device_id, data


def decode_iot_data(topic_device_id: str, payload: bytes) -> Reading | Rejected:
    """Decode `iot/sensors/{device_id}/data` (and health monitors' `sensor_data`).

    Flat `{"device_id", "temperature", "humidity", "timestamp"}`, nested
    `{"device_id", "sensors": {...}, "timestamp"}` or `{"type": "sensor_data",
    "data": {...}}`. Values are found by metric name or alias; one invalid
    value of a known metric refuses the message, unknown keys are skipped.
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
            return Rejected(Rejection.WRONG_TYPE, f"{name} is {kind_name(nested)}")
        containers.append((f"{name}.", nested))

    values: dict[str, float] = {}
    for prefix, container in containers:
        top_level = not prefix
        for key, value in container.items():
            if key in _ENVELOPE_KEYS or (top_level and key in _VALUE_CONTAINERS):
                continue
            metric = metric_for(key)
            if metric is None or metric.key in values:
                continue
            if value is None:
                continue
            number = metric_value(key, value, metric)
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
        firmware=find_firmware(data, *nested_containers),
        device_time=find_device_time(data, *nested_containers),
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
    device_id = topic_device(topic_device_id)
    if isinstance(device_id, Rejected):
        return device_id
    return decode_status(device_id, payload, check_device=True)


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
        device_time=parse_device_time(data.get(TIME_KEY)),
        data=data,
    )


def _first_text(data: Mapping[str, Any], *keys: str, limit: int | None = MAX_TEXT) -> str | None:
    for key in keys:
        if (text := as_text(data.get(key), limit)) is not None:
            return text
    return None
