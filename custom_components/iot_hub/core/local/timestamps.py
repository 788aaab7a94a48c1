"""Device clocks: epoch seconds, epoch milliseconds or ISO 8601 strings."""

from datetime import UTC, datetime
import math

# Larger epoch numbers are milliseconds: 1e11 s is in the year 5138, 1e11 ms in 1973.
EPOCH_MS_THRESHOLD = 1e11
# Earlier instants are a clock that was never set (an RTC at 0, or `millis()`
# since boot, as the ESP32 sketches send), not a time worth showing.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Longest ISO 8601 string considered ("2025-01-20T10:30:00.123456+05:30" is 32).
_MAX_ISO_LENGTH = 64


def parse_device_time(value: object) -> datetime | None:
    """Read what a device sent as its time into an aware UTC datetime, or None.

    Accepts epoch seconds (int or float), epoch milliseconds (numbers above
    1e11) and ISO 8601 strings (`Z` or an offset; naive means UTC). Anything
    else, non-finite, negative, before 2000 or after 9999 gives None. Never raises.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(value)
    if isinstance(value, str):
        return _from_iso(value)
    return None


def _from_epoch(value: float) -> datetime | None:
    try:
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            return None
        if seconds > EPOCH_MS_THRESHOLD:
            seconds /= 1000.0
        moment = datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        return None
    return moment if moment >= EARLIEST else None


def _from_iso(value: str) -> datetime | None:
    text = value.strip()
    if not text or len(text) > _MAX_ISO_LENGTH:
        return None
    try:
        moment = datetime.fromisoformat(text)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError, ValueError:
        return None
    return moment if moment >= EARLIEST else None
