"""The event deduplicator: one event per id within its window, memory bounded (clock injected)."""

import math

import pytest

from custom_components.iot_hub.core.local.dedup import EventDeduplicator


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
