"""Read fields of hostile JSON: every helper is pure, typed and never raises."""

from dataclasses import dataclass
from datetime import UTC, datetime
import re
from typing import Any, Final

import orjson

from ..local.common import quote as local_quote

# Cap on strings copied from an answer or a message into a result.
MAX_TEXT: Final = 128
# Cap on text quoted in an error or rejection detail.
MAX_QUOTE: Final = 60
# Cloud ids are 64-bit longs (18-digit snowflakes); as text they are digits, or the
# alphanumeric serials (deviceSn) and hex ids (cmdId, cookUuid).
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.:-]{0,63}", re.ASCII)
_MAX_ID_INT = 2**64
_DIGITS = re.compile(r"-?[0-9]{1,19}", re.ASCII)
# Server times outside 2000..2100 are no real timestamps.
_MIN_MS: Final = 946_684_800_000
_MAX_MS: Final = 4_102_444_800_000


def quote(value: object) -> str:
    """Render hostile text (or a type name) short and printable, for a detail."""
    return local_quote(value, MAX_QUOTE, MAX_QUOTE * 2)


@dataclass(frozen=True, slots=True)
class BadJson:
    """Why bytes did not parse: too large (not even looked at) or invalid JSON."""

    too_large: bool
    detail: str


def parse_json(payload: bytes, limit: int) -> Any | BadJson:
    """Return the JSON value of `payload`, or why it has none (size, syntax, depth)."""
    if len(payload) > limit:
        return BadJson(True, f"{len(payload)} bytes is more than {limit}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as err:
        # Also refuses NaN, Infinity, 1e999, bad UTF-8 and nesting deeper than 1024.
        return BadJson(False, f"invalid JSON: {str(err)[:MAX_QUOTE]}")


def as_id(value: object) -> str | None:
    """Return an id as text: a short alphanumeric string, or a non-negative 64-bit int."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 <= value < _MAX_ID_INT else None
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    return None


def as_text(value: object, limit: int = MAX_TEXT) -> str | None:
    """Return a string stripped and capped (None when empty or not a string)."""
    if not isinstance(value, str):
        return None
    return value.strip()[:limit] or None


def as_int(value: object, low: int, high: int) -> int | None:
    """Return an int (or digits as text) within [low, high]; floats with no fraction too."""
    number: int
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and _DIGITS.fullmatch(value)
    ):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def as_bool(value: object) -> bool | None:
    """Return a JSON boolean (0/1 accepted), else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def as_time_ms(value: object) -> datetime | None:
    """Return a Unix time in milliseconds as an aware UTC datetime, if plausible."""
    millis = as_int(value, _MIN_MS, _MAX_MS)
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC)


def as_object(value: object) -> dict[str, Any] | None:
    """Return `value` if it is a JSON object."""
    return value if isinstance(value, dict) else None


def as_list(value: object, limit: int) -> list[Any]:
    """Return at most `limit` items of a JSON array (an empty list for anything else)."""
    return value[:limit] if isinstance(value, list) else []
