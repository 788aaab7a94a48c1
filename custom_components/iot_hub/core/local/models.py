"""Typed results of decoding a message: what the Home Assistant layer consumes."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Rejection(StrEnum):
    """Why a payload was not accepted; values are diagnostics keys."""

    TOO_LARGE = "too_large"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    NO_VALUES = "no_values"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    MISSING_FIELD = "missing_field"
    INVALID_DEVICE_ID = "invalid_device_id"
    DEVICE_ID_MISMATCH = "device_id_mismatch"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    UNKNOWN_STATUS = "unknown_status"
    DUPLICATE = "duplicate"
    DEVICE_LIMIT = "device_limit"
    DEVICE_ID_NOT_ALLOWED = "device_id_not_allowed"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload that was refused, and why."""

    reason: Rejection
    detail: str = ""


class DeviceModel(StrEnum):
    """What a message says (or implies) the device is."""

    DHT11 = "DHT11"
    PIR = "PIR motion sensor"
    PRESSURE_MAT = "Pressure mat"
    ESP32 = "ESP32"
    RASPBERRY_PI = "Raspberry Pi"
    GENERIC = "MQTT device"


@dataclass(frozen=True, slots=True)
class Reading:
    """Numeric values a device reported at once.

    `values` keys are the metric names IoT Hub knows (see `METRICS`); the
    decoder drops (and counts) what it does not know, never the whole reading.
    """

    device_id: str
    values: dict[str, float]
    model: DeviceModel = DeviceModel.GENERIC
    firmware: str | None = None
    device_time: datetime | None = None


class EventType(StrEnum):
    """Event envelope types IoT Hub acts on."""

    MOTION_DETECTED = "MOTION_DETECTED"
    PRESSURE_DETECTED = "PRESSURE_DETECTED"


@dataclass(frozen=True, slots=True)
class Event:
    """An event envelope `{event_id, device_id, source, type, data, timestamp}`."""

    event_id: str
    device_id: str
    type: EventType
    source: str | None = None
    # Motion: data.presence (True when absent on MOTION_DETECTED).
    presence: bool | None = None
    # Pressure mat: data.pressure ("high"/"low"/...) and data.duration_ms.
    pressure: str | None = None
    duration_ms: int | None = None
    device_time: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)


class DeviceStatus(StrEnum):
    """Device status words of every layout, normalised."""

    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class Status:
    """A status message: online/offline and optional health values."""

    device_id: str
    status: DeviceStatus
    values: dict[str, float] = field(default_factory=dict)
    firmware: str | None = None
    device_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert on `iot/alerts/{device_id}`: a level and a message."""

    device_id: str
    level: str | None
    message: str | None
    device_time: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
