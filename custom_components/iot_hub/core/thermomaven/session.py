"""One active session per account: notice takeovers and never ping-pong with the phone app.

The cloud keeps one token per account: the phone app logging in invalidates ours, and our
silent re-login signs the app out. Each re-login forced by a dead token is a takeover.
After one, further calls that could log in again wait longer and longer (1 min, 2, 4 …
up to an hour; the streak ends after a whole window without a takeover) so the app and
Home Assistant never kick each other in a loop; after `threshold` takeovers within
`window` seconds the owner is told (a repair issue).
"""

from collections import deque
from collections.abc import Callable
import time
from typing import Final

DEFAULT_WINDOW: Final = 3600.0
DEFAULT_THRESHOLD: Final = 3
BASE_DELAY: Final = 60.0
MAX_DELAY: Final = 3600.0


class TakeoverGuard:
    """Count takeovers; say how long a call that may log in again must wait."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        window: float = DEFAULT_WINDOW,
        threshold: int = DEFAULT_THRESHOLD,
        base_delay: float = BASE_DELAY,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self._clock = clock
        self._window = window
        self._threshold = threshold
        self._base = base_delay
        self._max = max_delay
        self._times: deque[float] = deque(maxlen=max(threshold, 16))
        self.total = 0
        # Takeovers in a row (none more than a window apart), and when calls may go again.
        self._streak = 0
        self._last: float | None = None
        self._until = 0.0

    def _recent(self) -> int:
        now = self._clock()
        while self._times and now - self._times[0] > self._window:
            self._times.popleft()
        return len(self._times)

    def record(self) -> None:
        """Note a takeover (our token died and a re-login replaced it)."""
        now = self._clock()
        if self._last is not None and now - self._last > self._window:
            self._streak = 0
        self._last = now
        self._streak += 1
        # Fixed now: older takeovers leaving the window do not shorten it.
        self._until = now + min(self._max, self._base * 2.0 ** min(self._streak - 1, 32))
        self._times.append(now)
        self.total += 1

    @property
    def repeated(self) -> bool:
        """Whether the session was taken over `threshold` times within the window."""
        return self._recent() >= self._threshold

    def wait_time(self) -> float:
        """Return seconds to wait before a call that may log in again (0: go ahead)."""
        return max(0.0, self._until - self._clock())
