"""Exponential reconnect backoff with full jitter."""

from collections.abc import Callable
from dataclasses import dataclass, field
import random


@dataclass(slots=True)
class Backoff:
    """Delays of min(cap, base * 2**n) scaled by a random factor in [0.5, 1].

    Half-jitter keeps clients that lost the same broker from reconnecting in
    lockstep while never retrying sooner than half the nominal delay.
    """

    base: float = 1.0
    cap: float = 60.0
    rand: Callable[[], float] = field(default=random.random)
    attempts: int = 0

    def next_delay(self) -> float:
        """Return the delay before the next attempt and count the attempt."""
        nominal = min(self.cap, self.base * 2.0 ** min(self.attempts, 32))
        self.attempts += 1
        return nominal * (0.5 + self.rand() / 2)

    def reset(self) -> None:
        """Start again from the base delay after a successful connection."""
        self.attempts = 0
