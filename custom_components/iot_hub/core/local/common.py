"""What every decoder of the DIY sensor layouts shares: JSON, numbers, ids, text.

Every helper is pure and never raises, whatever the bytes: a bad value is a
`Rejected` saying why (its `reason` is a diagnostics key, its `detail` short).
"""

from collections.abc import Mapping
from datetime import datetime
import functools
import math
import re
from typing import Any, Final
import unicodedata

import orjson

from .metrics import Metric
from .models import Rejected, Rejection
from .timestamps import parse_device_time

# Anything larger is not a sensor reading; refuse before parsing.
MAX_PAYLOAD_BYTES: Final = 64 * 1024
MAX_DEVICE_ID_LENGTH: Final = 64
# Cap on strings copied from a payload into a result (firmware, source...).
MAX_TEXT = 128
# Cap on payload text quoted in a rejection's detail.
_MAX_QUOTE = 40
MAX_DETAIL = 120

FIRMWARE_KEYS: Final = ("firmware", "firmware_version", "version_firmware", "fw")
TIME_KEY: Final = "timestamp"

# A decimal number written as a string ("21.5", "-3", "1e3"); no "nan", "inf", "1_0".
_NUMERIC_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_MAX_NUMERIC_TEXT = 32
# Unicode categories refused in a device id: controls, format characters,
# surrogates, line and paragraph separators.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def quote(value: object, limit: int = _MAX_QUOTE, cap: int = MAX_DETAIL - 20) -> str:
    """Render payload text (or a type name) short and printable, for a detail.

    At most `limit` characters of the text, then at most `cap` once escaped.
    """
    text = value if isinstance(value, str) else type(value).__name__
    short = text[:limit] + ("…" if len(text) > limit else "")
    return short.encode("unicode_escape").decode("ascii")[:cap]


def kind_name(value: object) -> str:
    """Return the JSON-ish type name of a value, for a rejection detail."""
    return type(value).__name__


def as_text(value: object, limit: int | None = MAX_TEXT) -> str | None:
    """Copy a string from a payload: str (stripped, capped), or a (non-bool) number."""
    if isinstance(value, str):
        text = value.strip()
        return (text if limit is None else text[:limit]) or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        # orjson keeps integers to 64 bits: str() is safe.
        return str(value)[:MAX_TEXT]
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
        return Rejected(Rejection.INVALID_JSON, str(err)[:MAX_DETAIL])
    if not isinstance(data, dict):
        return Rejected(Rejection.NOT_AN_OBJECT, kind_name(data))
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


def as_number(
    key: str, value: object, bounds: tuple[float, float], *, text: bool
) -> float | Rejected:
    """`value` as a finite float within `bounds` (strings only when `text`)."""
    number: float
    if isinstance(value, bool):
        # bool is an int subclass; "true" is no temperature.
        return Rejected(Rejection.WRONG_TYPE, f"{quote(key)} is bool")
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
        return Rejected(Rejection.WRONG_TYPE, f"{quote(key)} is {kind_name(value)}")
    if not math.isfinite(number):
        return Rejected(Rejection.NOT_FINITE, quote(key))
    if not bounds[0] <= number <= bounds[1]:
        return Rejected(Rejection.OUT_OF_RANGE, f"{quote(key)}={number}")
    return number


def metric_value(key: str, value: object, metric: Metric) -> float | Rejected:
    """Return a metric's value (numbers or numeric text) within the metric's range."""
    return as_number(key, value, (metric.minimum, metric.maximum), text=True)


def find_firmware(*containers: Mapping[str, Any]) -> str | None:
    """Return the first valid firmware string of the containers."""
    for container in containers:
        for key in FIRMWARE_KEYS:
            value = container.get(key)
            if value is not None and (firmware := as_text(value)) is not None:
                return firmware
    return None


def find_device_time(*containers: Mapping[str, Any]) -> datetime | None:
    """Return the first plausible device timestamp of the containers."""
    for container in containers:
        value = container.get(TIME_KEY)
        if value is not None and (moment := parse_device_time(value)) is not None:
            return moment
    return None


def topic_device(topic_device_id: str) -> str | Rejected:
    """Return the device id a topic level names, if valid."""
    device_id = valid_device_id(topic_device_id)
    if device_id is None:
        return Rejected(Rejection.INVALID_DEVICE_ID, quote(topic_device_id))
    return device_id


def check_payload_device(data: Mapping[str, Any], device_id: str) -> Rejected | None:
    """In the `iot` family the topic names the device; a payload id must agree."""
    claimed = data.get("device_id")
    if claimed is None or claimed == device_id:
        return None
    return Rejected(Rejection.DEVICE_ID_MISMATCH, f"payload says {quote(claimed)}")
