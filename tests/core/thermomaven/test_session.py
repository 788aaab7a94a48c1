"""TakeoverGuard: takeovers in a sliding window, doubling waits, repeated takeovers."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iot_hub.core.thermomaven.session import (
    BASE_DELAY,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    MAX_DELAY,
    TakeoverGuard,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def guard_at(clock: Clock, **kwargs: Any) -> TakeoverGuard:
    return TakeoverGuard(clock=clock, **kwargs)


def repeated(guard: TakeoverGuard) -> bool:
    # A call: mypy narrows a property across guard.record() and flags the next assert.
    return guard.repeated


def test_defaults() -> None:
    assert (DEFAULT_WINDOW, DEFAULT_THRESHOLD, BASE_DELAY, MAX_DELAY) == (3600, 3, 60, 3600)


def test_no_takeover_no_wait() -> None:
    guard = guard_at(Clock())
    assert guard.wait_time() == 0.0
    assert not repeated(guard)
    assert guard.total == 0


def test_the_wait_runs_out_after_the_last_takeover() -> None:
    clock = Clock()
    guard = guard_at(clock)
    guard.record()
    assert guard.total == 1
    assert guard.wait_time() == 60.0
    clock.now += 45
    assert guard.wait_time() == 15.0
    clock.now += 15
    assert guard.wait_time() == 0.0
    clock.now += 1  # past the wait: still 0, never negative
    assert guard.wait_time() == 0.0
    assert not repeated(guard)


def test_the_wait_doubles_per_takeover_up_to_the_maximum() -> None:
    clock = Clock()
    guard = guard_at(clock)
    waits = []
    for _ in range(9):
        guard.record()
        waits.append(guard.wait_time())
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert guard.total == 9
    # Counted from the last takeover.
    clock.now += 600
    assert guard.wait_time() == 3000.0


def test_custom_delays() -> None:
    clock = Clock()
    guard = guard_at(clock, base_delay=5, max_delay=12)
    guard.record()
    assert guard.wait_time() == 5.0
    clock.now += 1
    guard.record()
    assert guard.wait_time() == 10.0
    guard.record()
    assert guard.wait_time() == 12.0


def test_repeated_after_threshold_takeovers_within_the_window() -> None:
    clock = Clock()
    guard = guard_at(clock)
    guard.record()
    clock.now += 1800
    guard.record()
    assert not repeated(guard)
    clock.now += 1800  # the first is exactly one window old: still counted
    guard.record()
    assert repeated(guard)
    assert guard.wait_time() == 240.0
    clock.now += 0.5  # now it has left the window
    assert not repeated(guard)
    assert guard.wait_time() == 239.5  # fixed when the takeover happened
    assert guard.total == 3


def test_takeovers_spread_beyond_the_window_are_never_repeated() -> None:
    clock = Clock()
    guard = guard_at(clock)
    for _ in range(10):
        guard.record()
        assert guard.wait_time() == 60.0  # always the first within the window
        assert not repeated(guard)
        clock.now += DEFAULT_WINDOW + 1
    assert guard.wait_time() == 0.0
    assert guard.total == 10


def test_old_takeovers_leave_the_window() -> None:
    clock = Clock()
    guard = guard_at(clock, window=100)
    for _ in range(3):
        guard.record()
    assert repeated(guard)
    clock.now += 101
    assert not repeated(guard)
    assert guard.wait_time() == 139.0  # the third one's 240 s, fixed when it happened
    assert guard.total == 3
    # A new one more than a window after the last ends the streak: the base delay again.
    guard.record()
    assert guard.wait_time() == 60.0


@pytest.mark.parametrize("threshold", [1, 2, 5, 16, 20])
def test_threshold(threshold: int) -> None:
    guard = guard_at(Clock(), threshold=threshold)
    for _ in range(threshold - 1):
        guard.record()
    assert not repeated(guard)
    guard.record()
    assert repeated(guard)
    # More takeovers than the guard remembers stay "repeated" and at the maximum wait.
    for _ in range(40):
        guard.record()
    assert repeated(guard)
    assert guard.wait_time() == MAX_DELAY
    assert guard.total == threshold + 40


def test_the_default_clock_is_monotonic() -> None:
    guard = TakeoverGuard()
    assert guard.wait_time() == 0.0
    guard.record()
    assert 59.0 < guard.wait_time() <= 60.0


def test_the_wait_after_a_takeover_does_not_shrink_when_older_ones_leave_the_window() -> None:
    clock = Clock(0.0)
    guard = guard_at(clock)
    # Each takeover happens just when the guard lets a call through again.
    for now in (0, 60, 180, 420, 900, 1860):
        clock.now = now
        assert guard.wait_time() == 0.0
        guard.record()
    assert guard.wait_time() == 1920.0  # until t=3780
    clock.now = 3601.0  # the takeover of t=0 leaves the window
    assert guard.wait_time() == 179.0  # got 0.0 (1860 + 960 - 3601 < 0)


# (seconds to advance, record a takeover?)
STEPS = st.lists(
    st.tuples(st.sampled_from([0, 0.5, 30, 60, 119, 600, 1800, 3599, 3600, 3601]), st.booleans()),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(steps=STEPS)
def test_invariants(steps: list[tuple[float, bool]]) -> None:
    """Right after a takeover: the delay doubled per takeover in a row; then it only drops.

    (Says nothing of how fast it drops: see the test above.)
    """
    clock = Clock(0.0)
    guard = guard_at(clock)
    times: list[float] = []
    previous = 0.0
    streak = 0
    for advance, takeover in steps:
        clock.now += advance
        if takeover:
            # Takeovers in a row: none more than a window after the one before.
            streak = 1 if not times or clock.now - times[-1] > DEFAULT_WINDOW else streak + 1
            guard.record()
            times.append(clock.now)
        recent = [t for t in times if clock.now - t <= DEFAULT_WINDOW]
        assert guard.total == len(times)
        assert repeated(guard) is (len(recent) >= DEFAULT_THRESHOLD)
        wait = guard.wait_time()
        assert 0.0 <= wait <= MAX_DELAY
        if takeover:
            assert wait == min(MAX_DELAY, BASE_DELAY * 2.0 ** (streak - 1))
        else:
            assert wait <= max(0.0, previous - advance)
        if not recent:
            assert wait == 0.0
        previous = wait
