"""Turn raw MQTT payloads into typed readings or a typed rejection."""

from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Any

import orjson

# Anything larger is not a sensor reading; refuse before parsing.
MAX_PAYLOAD_BYTES = 64 * 1024
# Physically possible range of the DHT family (DHT11/DHT22); outside it the
# reading is a wiring or firmware fault, not weather.
TEMPERATURE_RANGE = (-40.0, 80.0)
HUMIDITY_RANGE = (0.0, 100.0)


class Rejection(StrEnum):
    """Why a payload was not accepted; values are diagnostics keys."""

    TOO_LARGE = "too_large"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    NO_VALUES = "no_values"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload that was refused, and why."""

    reason: Rejection
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Dht11Reading:
    """One DHT11 message: either value may be missing, not both."""

    temperature: float | None
    humidity: float | None


def parse_json_object(payload: bytes) -> dict[str, Any] | Rejected:
    """Parse a size-capped JSON object."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Rejected(Rejection.TOO_LARGE, f"{len(payload)} bytes")
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        return Rejected(Rejection.INVALID_JSON, str(err)[:120])
    if not isinstance(data, dict):
        return Rejected(Rejection.NOT_AN_OBJECT, type(data).__name__)
    return data


def _number(data: dict[str, Any], key: str, bounds: tuple[float, float]) -> float | Rejected | None:
    """Return data[key] as a finite, in-range float; None when absent."""
    value = data.get(key)
    if value is None:
        return None
    # bool is an int subclass; "true" is no temperature.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Rejected(Rejection.WRONG_TYPE, f"{key} is {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        return Rejected(Rejection.NOT_FINITE, key)
    if not bounds[0] <= number <= bounds[1]:
        return Rejected(Rejection.OUT_OF_RANGE, f"{key}={number}")
    return number


def decode_dht11(payload: bytes) -> Dht11Reading | Rejected:
    """Decode `{"temperature": 25.5, "humidity": 60}` (seed 000)."""
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    temperature = _number(data, "temperature", TEMPERATURE_RANGE)
    if isinstance(temperature, Rejected):
        return temperature
    humidity = _number(data, "humidity", HUMIDITY_RANGE)
    if isinstance(humidity, Rejected):
        return humidity
    if temperature is None and humidity is None:
        return Rejected(Rejection.NO_VALUES)
    return Dht11Reading(temperature, humidity)
