"""Device times: epoch seconds or milliseconds, ISO 8601; implausible ones refused."""

from datetime import UTC, datetime, timedelta, timezone
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iot_hub.core.local.timestamps import EARLIEST, parse_device_time


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
