"""Decode the MQTT messages of the ThermoMaven cloud; every decoder returns, never raises.

Envelopes: `user:device:list` (user topic), `<MODEL>:status:report` and
`device:cmd:receipt` (device topics). Temperatures arrive in tenths of the account's unit
and come out as float degrees of that unit; 64-bit ids always come out as text.
"""

import re
from typing import Any, Final

from .fields import (
    BadJson,
    as_bool,
    as_id,
    as_int,
    as_list,
    as_object,
    as_text,
    as_time_ms,
    parse_json,
    quote,
)
from .models import (
    DOCKED_STATES,
    CommandReceipt,
    DeviceList,
    ListedDevice,
    Probe,
    Rejected,
    Rejection,
    StatusReport,
    TemperatureUnit,
    model_probes,
)
from .topics import device_id_from_topic, valid_subscription

# AWS IoT caps a message at 128 KiB; leave room, refuse anything larger unparsed.
MAX_MESSAGE_BYTES: Final = 256 * 1024
MAX_DEVICES: Final = 256
MAX_PROBES: Final = 8
MAX_ZONES: Final = 8
MAX_TOPICS: Final = 16

DEVICE_LIST: Final = "user:device:list"
RECEIPT: Final = "device:cmd:receipt"
STATUS_SUFFIX: Final = ":status:report"

# Plausible temperatures in tenths of each unit (about -50 °C … 550 °C); outside is no
# reading. 65535 and -1 are "no reading" sentinels (seen over BLE); 0 is kept as 0.0.
TENTHS_BOUNDS: Final = {
    TemperatureUnit.FAHRENHEIT: (-580, 10220),
    TemperatureUnit.CELSIUS: (-500, 5500),
}
SENTINELS: Final = frozenset({-1, 65535})
MAX_SECONDS: Final = 10_000_000
_MODEL = re.compile(r"[A-Za-z0-9]{1,16}", re.ASCII)
_SLOT = re.compile(r"probe([1-8])", re.ASCII)

type Message = DeviceList | StatusReport | CommandReceipt


def decode_message(
    topic: str, payload: bytes, unit: TemperatureUnit = TemperatureUnit.FAHRENHEIT
) -> Message | Rejected:
    """Decode a message of any ThermoMaven topic by its cmdType."""
    data = parse_json(payload, MAX_MESSAGE_BYTES)
    if isinstance(data, BadJson):
        reason = Rejection.TOO_LARGE if data.too_large else Rejection.INVALID_JSON
        return Rejected(reason, data.detail)
    if not isinstance(data, dict):
        return Rejected(Rejection.NOT_AN_OBJECT, type(data).__name__)
    cmd_type = data.get("cmdType")
    if cmd_type == DEVICE_LIST:
        return decode_device_list(data, unit)
    topic_device = device_id_from_topic(topic)
    if cmd_type == RECEIPT:
        return decode_receipt(data, topic_device)
    if isinstance(cmd_type, str) and cmd_type.endswith(STATUS_SUFFIX):
        return decode_status_report(data, unit, topic_device)
    return Rejected(Rejection.UNKNOWN_CMD_TYPE, quote(cmd_type))


def temperature(value: object, unit: TemperatureUnit) -> float | None:
    """Return degrees from tenths of `unit`, None for a sentinel or implausible value."""
    low, high = TENTHS_BOUNDS[unit]
    tenths = as_int(value, low, 65535)
    if tenths is None or tenths in SENTINELS or tenths > high:
        return None
    return round(tenths / 10, 1)


def battery(value: object) -> int | None:
    """Return a battery percentage; negative is no reading, above 100 is clamped to 100."""
    percent = as_int(value, -(2**31), 2**31)
    return None if percent is None or percent < 0 else min(percent, 100)


def _model(*candidates: object) -> str | None:
    """Return the first candidate that looks like a model code (WT11)."""
    for candidate in candidates:
        if isinstance(candidate, str) and _MODEL.fullmatch(candidate):
            return candidate.upper()
    return None


def _device_id(data: dict[str, Any], cmd_data: dict[str, Any], fallback: str | None) -> str | None:
    """Return the deviceId at the root, else in cmdData, else the fallback (topic/parent)."""
    for value in (data.get("deviceId"), cmd_data.get("deviceId")):
        if value is not None and (device_id := as_id(value)) is not None:
            return device_id
    return fallback


def _seconds(value: object) -> int | None:
    return as_int(value, 0, MAX_SECONDS)


def _lower(value: object, limit: int = 32) -> str | None:
    text = as_text(value, limit)
    return None if text is None else text.lower()


def _probe(raw: object, index: int, unit: TemperatureUnit) -> Probe | None:
    """Decode one element of `probes`; its slot comes from probeColor, else its position."""
    data = as_object(raw)
    if data is None:
        return None
    color = as_text(data.get("probeColor"), 16)
    match = _SLOT.fullmatch(color or "")
    slot = int(match.group(1)) if match else index + 1
    state = _lower(data.get("cookingState"))
    stages = as_list(data.get("setParams"), 1)
    first = as_object(stages[0]) if stages else None
    zones = tuple(temperature(zone, unit) for zone in as_list(data.get("areaTemperature"), 8))
    return Probe(
        slot=slot,
        color=color,
        docked=state in DOCKED_STATES,
        cooking_state=state,
        cooking_mode=_lower(data.get("cookingMode")),
        cook_uuid=as_id(data.get("cookUuid")),
        start_client=_lower(data.get("startClient")),
        serial=as_id(data.get("deviceSn")),
        notes=as_text(data.get("probeNotes")),
        target=None if first is None else temperature(first.get("setTemperature"), unit),
        temperature=temperature(data.get("curTemperature"), unit),
        ambient=temperature(data.get("curAmbientTemperature"), unit),
        zones=zones,
        battery=battery(data.get("batteryValue")),
        total_sec=_seconds(data.get("totalCookSec")),
        elapsed_sec=_seconds(data.get("curCookSec")),
        remaining_sec=_seconds(data.get("curRemainedSec")),
        cooking=as_bool(data.get("cooking")),
        overheat=as_bool(data.get("overheat")),
    )


def decode_status_report(
    data: dict[str, Any],
    unit: TemperatureUnit = TemperatureUnit.FAHRENHEIT,
    fallback_device_id: str | None = None,
    fallback_model: str | None = None,
) -> StatusReport | Rejected:
    """Decode a status-report envelope (a parsed JSON object)."""
    cmd_data = as_object(data.get("cmdData"))
    if cmd_data is None:
        return Rejected(Rejection.MISSING_FIELD, "cmdData")
    device_id = _device_id(data, cmd_data, fallback_device_id)
    if device_id is None:
        return Rejected(Rejection.INVALID_DEVICE_ID, quote(data.get("deviceId")))
    cmd_type = data.get("cmdType")
    prefix = cmd_type.removesuffix(STATUS_SUFFIX) if isinstance(cmd_type, str) else None
    model = _model(data.get("deviceModel"), prefix, fallback_model)
    probes: dict[int, Probe] = {}
    for index, raw in enumerate(as_list(cmd_data.get("probes"), MAX_PROBES)):
        probe = _probe(raw, index, unit)
        if probe is not None:
            probes.setdefault(probe.slot, probe)
    status = _lower(cmd_data.get("globalStatus"))
    # "offline" reports may carry only that field; a report without the field counts as
    # online when it carries probes (firmware differences).
    online = status == "online" or (status != "offline" and bool(probes))
    count = max(model_probes(model) or 1, max(probes, default=1))
    return StatusReport(
        device_id=device_id,
        model=model,
        online=online,
        unit=unit,
        probe_count=count,
        probes=tuple(sorted(probes.values(), key=lambda probe: probe.slot)),
        battery=battery(cmd_data.get("batteryValue")),
        battery_status=_lower(cmd_data.get("batteryStatus")),
        wifi_rssi=as_int(cmd_data.get("wifiRssi"), -127, -1),
        has_wifi_config=as_bool(cmd_data.get("hasWifiConfig")),
        connect_status=_lower(cmd_data.get("connectStatus")),
        volume=_lower(cmd_data.get("volume")),
        firmware=as_text(data.get("appVersion"), 32) or as_id(data.get("appVersion")),
        server_time=as_time_ms(data.get("serverTime")),
        device_time=as_time_ms(data.get("deviceTime")),
    )


def _listed_device(raw: object, unit: TemperatureUnit) -> ListedDevice | None:
    """Decode one element of `user:device:list` devices; None without a device id."""
    data = as_object(raw)
    device_id = None if data is None else as_id(data.get("deviceId"))
    if data is None or device_id is None:
        return None
    model = _model(data.get("deviceModel"))
    topics = as_list(data.get("subTopics"), MAX_TOPICS)
    last = as_object(data.get("lastStatusCmd"))
    last_status = None
    if last is not None:
        decoded = decode_status_report(last, unit, device_id, model)
        last_status = decoded if isinstance(decoded, StatusReport) else None
    firmware = data.get("firmwareVersionCode")
    share_flag = as_int(data.get("shareFlag"), 0, 1)
    return ListedDevice(
        device_id=device_id,
        serial=as_id(data.get("deviceSn")),
        name=as_text(data.get("deviceName")),
        model=model,
        sub_topics=tuple(dict.fromkeys(t for t in topics if valid_subscription(t))),
        firmware_version=as_text(firmware, 32) or as_id(firmware),
        shared=None if share_flag is None else share_flag == 1,
        logo_url=as_text(data.get("deviceLogo"), 512),
        bind_time=as_time_ms(data.get("bindTime")),
        last_status=last_status,
    )


def decode_device_list(
    data: dict[str, Any], unit: TemperatureUnit = TemperatureUnit.FAHRENHEIT
) -> DeviceList | Rejected:
    """Decode a `user:device:list` envelope; entries without a valid deviceId are skipped."""
    cmd_data = as_object(data.get("cmdData"))
    if cmd_data is None or not isinstance(cmd_data.get("devices"), list):
        return Rejected(Rejection.MISSING_FIELD, "cmdData.devices")
    raw_devices = cmd_data["devices"]
    devices: dict[str, ListedDevice] = {}
    for raw in raw_devices[:MAX_DEVICES]:
        device = _listed_device(raw, unit)
        if device is not None:
            devices.setdefault(device.device_id, device)
    return DeviceList(
        user_id=as_id(data.get("userId")),
        devices=tuple(devices.values()),
        skipped=len(raw_devices) - len(devices),
        server_time=as_time_ms(data.get("serverTime")),
    )


def decode_receipt(
    data: dict[str, Any], fallback_device_id: str | None = None
) -> CommandReceipt | Rejected:
    """Decode a `device:cmd:receipt` envelope; success only on executeResult "success"."""
    cmd_data = as_object(data.get("cmdData"))
    if cmd_data is None:
        return Rejected(Rejection.MISSING_FIELD, "cmdData")
    device_id = _device_id(data, {}, fallback_device_id)
    if device_id is None:
        return Rejected(Rejection.INVALID_DEVICE_ID, quote(data.get("deviceId")))
    result = _lower(cmd_data.get("executeResult"))
    cmd_type = cmd_data.get("cmdType")
    return CommandReceipt(
        device_id=device_id,
        cmd_id=as_id(cmd_data.get("cmdId")),
        cmd_type=as_text(cmd_type, 64),
        success=result == "success",
        execute_result=result,
        error_code=as_int(cmd_data.get("errorCode"), -(2**31), 2**31),
        cmd_error=as_int(cmd_data.get("cmdError"), -(2**31), 2**31),
        model=_model(data.get("deviceModel")),
        user_id=as_id(data.get("userId")),
        server_time=as_time_ms(data.get("serverTime")),
    )
