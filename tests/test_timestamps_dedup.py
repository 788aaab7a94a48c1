"""Device times and the event deduplicator (clock injected: no sleeping)."""

from datetime import UTC, datetime, timedelta, timezone
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iot_hub.core.local.dedup import EventDeduplicator
from custom_components.iot_hub.core.local.timestamps import EARLIEST, parse_device_time

# ---------------------------------------------------------------- parse_device_time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Seed 001's timestamps: integer and float epoch seconds.
        (1234567890, datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC)),
        (1734567890.123, datetime(2024, 12, 19, 0, 24, 50, 123000, tzinfo=UTC)),
        # Milliseconds (above 1e11).
        (1734567890123, datetime(2024, 12, 19, 0, 24, 50, 123000, tzinfo=UTC)),
        (1734567890123.0, datetime(2024, 12, 19, 0, 24, 50, 123000, tzinfo=UTC)),
        (946684800, EARLIEST),
        (1e11, datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)),
        (253402300799000, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (99999999999, datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC)),
        # Seed 004's ISO string, and variants.
        ("2025-01-20T10:30:00Z", datetime(2025, 1, 20, 10, 30, tzinfo=UTC)),
        ("2025-01-20T11:30:00+01:00", datetime(2025, 1, 20, 10, 30, tzinfo=UTC)),
        ("2025-01-20T05:30:00.250-05:00", datetime(2025, 1, 20, 10, 30, 0, 250000, tzinfo=UTC)),
        ("2025-01-20 10:30:00", datetime(2025, 1, 20, 10, 30, tzinfo=UTC)),
        (" 2025-01-20T10:30:00Z\n", datetime(2025, 1, 20, 10, 30, tzinfo=UTC)),
        ("2025-01-20", datetime(2025, 1, 20, tzinfo=UTC)),
    ],
)
def test_parse_device_time(value: object, expected: datetime) -> None:
    result = parse_device_time(value)
    assert result == expected
    assert result is not None
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        math.nan,
        math.inf,
        -math.inf,
        -1,
        -1.5,
        # A clock that was never set: millis() since boot (seeds 002, 004), epoch 0.
        0,
        120_000,
        946684799,
        "1970-01-01T00:00:05Z",
        # Beyond the year 9999, in seconds or milliseconds.
        253402300800 * 1000,
        1e300,
        10**400,
        "",
        "   ",
        "yesterday",
        "1734567890",
        "2025-13-01T00:00:00Z",
        "2025-01-20T10:30:00+25:00",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "2025-01-20T10:30:00Z" + " " * 10 + "x" * 60,
        b"2025-01-20T10:30:00Z",
        [1734567890],
        {"ts": 1734567890},
        datetime(2025, 1, 20, tzinfo=UTC),
    ],
)
def test_parse_device_time_refuses(value: object) -> None:
    assert parse_device_time(value) is None


@settings(max_examples=300, deadline=None)
@given(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
    | st.datetimes(timezones=st.timezones() | st.none()).map(datetime.isoformat)
    | st.lists(st.integers(), max_size=2)
)
def test_parse_device_time_never_raises(value: object) -> None:
    result = parse_device_time(value)
    if result is not None:
        assert result.utcoffset() == timedelta(0)
        assert result >= EARLIEST


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.just(UTC) | st.just(timezone(timedelta(hours=-7, minutes=-30))),
    )
)
def test_parse_device_time_round_trips(moment: datetime) -> None:
    assert parse_device_time(moment.isoformat()) == moment
    from_epoch = parse_device_time(moment.timestamp())
    if moment.timestamp() <= 1e11:
        assert from_epoch is not None
        assert abs(from_epoch - moment) < timedelta(milliseconds=1)
    else:  # read as milliseconds: a time in the 1970s, refused
        assert from_epoch is None


# ---------------------------------------------------------------- EventDeduplicator


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_seen_within_window() -> None:
    clock = FakeClock()
    dedup = EventDeduplicator(window_s=600.0, clock=clock)
    assert dedup.seen("abc-123") is False
    assert dedup.seen("abc-123") is True
    assert dedup.seen("test-123") is False
    clock.now += 599.9
    assert dedup.seen("abc-123") is True
    assert len(dedup) == 2


def test_window_runs_from_first_sighting() -> None:
    clock = FakeClock()
    dedup = EventDeduplicator(window_s=10.0, clock=clock)
    assert dedup.seen("a") is False
    clock.now += 9
    assert dedup.seen("a") is True  # a repeat does not extend the window
    clock.now += 1
    assert dedup.seen("a") is False  # expired: recorded afresh
    clock.now += 9
    assert dedup.seen("a") is True


def test_expired_ids_are_forgotten() -> None:
    clock = FakeClock()
    dedup = EventDeduplicator(window_s=10.0, clock=clock)
    for index in range(5):
        dedup.seen(f"id-{index}")
        clock.now += 1
    assert len(dedup) == 5
    clock.now += 7  # id-0..id-2 were recorded 10+ s ago
    assert dedup.seen("new") is False
    assert len(dedup) == 3
    assert dedup.seen("id-0") is False
    assert dedup.seen("id-4") is True


def test_memory_bound_evicts_oldest_first() -> None:
    clock = FakeClock()
    dedup = EventDeduplicator(max_ids=3, clock=clock)
    for event_id in ("a", "b", "c"):
        assert dedup.seen(event_id) is False
        clock.now += 1
    assert dedup.seen("d") is False
    assert len(dedup) == 3
    assert dedup.seen("b") is True
    assert dedup.seen("c") is True
    assert dedup.seen("d") is True
    assert dedup.seen("a") is False  # evicted, so new again (and now "b" is out)
    assert dedup.seen("b") is False


def test_memory_stays_bounded() -> None:
    dedup = EventDeduplicator(max_ids=100, clock=FakeClock())
    for index in range(10_000):
        dedup.seen(str(index))
    assert len(dedup) == 100


def test_clock_going_backwards() -> None:
    clock = FakeClock(100.0)
    dedup = EventDeduplicator(window_s=600.0, clock=clock)
    assert dedup.seen("a") is False
    clock.now = 0.0
    assert dedup.seen("b") is False
    clock.now = 650.0
    # "a" (recorded at 100) is young, so expiry stops there; "b" (at 0) is old.
    assert dedup.seen("a") is True
    assert dedup.seen("b") is False
    assert len(dedup) == 2


def test_clear() -> None:
    dedup = EventDeduplicator(clock=FakeClock())
    dedup.seen("a")
    dedup.clear()
    assert len(dedup) == 0
    assert dedup.seen("a") is False


def test_default_clock_is_monotonic() -> None:
    dedup = EventDeduplicator()
    assert dedup.seen("a") is False
    assert dedup.seen("a") is True


@pytest.mark.parametrize(("max_ids", "window_s"), [(0, 1.0), (-1, 1.0), (1, 0.0), (1, math.nan)])
def test_invalid_settings(max_ids: int, window_s: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        EventDeduplicator(max_ids=max_ids, window_s=window_s)
