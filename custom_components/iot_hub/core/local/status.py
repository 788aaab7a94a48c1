"""Status messages: `{"status": "online", "battery": 87}` or a plain word.

Shared by the DHT11 topic (`dht11/status`) and the IoT platform topics
(`iot/devices/{device_id}/status`).
"""

from collections.abc import Mapping
from typing import Any, Final

import orjson

from .common import (
    MAX_DETAIL,
    MAX_PAYLOAD_BYTES,
    TIME_KEY,
    check_payload_device,
    find_firmware,
    kind_name,
    metric_value,
    quote,
)
from .metrics import metric_for
from .models import DeviceStatus, Rejected, Rejection, Status
from .timestamps import parse_device_time

STATUS_WORDS: Final[Mapping[str, DeviceStatus]] = {
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


def decode_status(device_id: str, payload: bytes, *, check_device: bool) -> Status | Rejected:
    """Decode a status message of `device_id` (JSON object, JSON string or a plain word)."""
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
        return Rejected(Rejection.INVALID_JSON, str(err)[:MAX_DETAIL])
    return _status_from_json(device_id, parsed, check_device=check_device)


def _status_from_json(
    device_id: str, parsed: str | dict[str, Any], *, check_device: bool
) -> Status | Rejected:
    # JSON text starting with a quote is a string, with a brace an object.
    if isinstance(parsed, str):
        return _status(device_id, parsed)
    if check_device and (mismatch := check_payload_device(parsed, device_id)) is not None:
        return mismatch
    word = next((parsed[key] for key in _STATUS_KEYS if parsed.get(key) is not None), None)
    status = (
        _status(device_id, word)
        if isinstance(word, str)
        else Rejected(Rejection.UNKNOWN_STATUS, "no status" if word is None else kind_name(word))
    )
    if isinstance(status, Rejected):
        return status
    values: dict[str, float] = {}
    for key, value in parsed.items():
        metric = metric_for(key)
        if metric is None or metric.key in values or value is None:
            continue
        number = metric_value(key, value, metric)
        if not isinstance(number, Rejected):
            values[metric.key] = number
    return Status(
        device_id=device_id,
        status=status.status,
        values=values,
        firmware=find_firmware(parsed),
        device_time=parse_device_time(parsed.get(TIME_KEY)),
    )


def _status(device_id: str, word: str) -> Status | Rejected:
    status = STATUS_WORDS.get(word.strip().lower())
    if status is None:
        return Rejected(Rejection.UNKNOWN_STATUS, quote(word))
    return Status(device_id=device_id, status=status)
