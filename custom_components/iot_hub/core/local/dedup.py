"""Drop events delivered twice (QoS 1 redelivery, a replayed persistent session)."""

from collections import OrderedDict
from collections.abc import Callable
import time


class EventDeduplicator:
    """Remember recent event ids, within a time window and a memory bound.

    An id counts as seen for `window_s` seconds after it was first recorded (a
    repeat does not extend that). At most `max_ids` ids are kept: beyond that
    the oldest are forgotten first.
    """

    def __init__(
        self,
        max_ids: int = 4096,
        window_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_ids < 1:
            raise ValueError("max_ids must be at least 1")
        if not window_s > 0:
            raise ValueError("window_s must be positive")
        self._max_ids = max_ids
        self._window_s = window_s
        self._clock = clock
        # id -> when first recorded; insertion order is age order.
        self._recorded: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        """How many ids are currently remembered."""
        return len(self._recorded)

    def seen(self, event_id: str) -> bool:
        """Tell whether `event_id` was recorded within the window; record it if not."""
        now = self._clock()
        self._expire(now)
        recorded = self._recorded.get(event_id)
        if recorded is not None and now - recorded < self._window_s:
            return True
        # Re-insert at the young end (it may linger from a clock that went backwards).
        self._recorded.pop(event_id, None)
        self._recorded[event_id] = now
        while len(self._recorded) > self._max_ids:
            self._recorded.popitem(last=False)
        return False

    def clear(self) -> None:
        """Forget every id."""
        self._recorded.clear()

    def _expire(self, now: float) -> None:
        while self._recorded:
            oldest, recorded = next(iter(self._recorded.items()))
            if now - recorded < self._window_s:
                return
            del self._recorded[oldest]
