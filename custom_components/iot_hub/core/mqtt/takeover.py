"""Tell, from how connections end, that another client uses our client id.

A broker keeps one connection per client id: a second client connecting with ours
makes it drop us. MQTT 5 brokers may say so (DISCONNECT 0x8E "Session taken over",
mosquitto from 2.0.15 on); older ones, and any broker with MQTT 3.1.1, just close
the socket. If both clients reconnect at once they kick each other forever, so a
connection that ends soon after it began is no success: the reconnect backoff is
not reset by it, and a run of them (or one explicit takeover) means "someone else
uses our client id".
"""

from collections import deque
from collections.abc import Callable
import time
from typing import Final

# MQTT 5 DISCONNECT reason code: another connection with our client id took over.
SESSION_TAKEN_OVER: Final = 0x8E
# A connection that lasted this long is a success (the reconnect backoff starts over).
STABLE_AFTER: Final = 30.0
# This many shorter connections in a row, within WINDOW seconds, make a takeover likely.
THRESHOLD: Final = 3
WINDOW: Final = 300.0


class TakeoverDetector:
    """Judge each lost connection by how long it lived and why it ended.

    Fed with `established` (the broker accepted a connection) and `lost` (that
    connection ended); `clock` is monotonic seconds.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        stable_after: float = STABLE_AFTER,
        threshold: int = THRESHOLD,
        window: float = WINDOW,
    ) -> None:
        self._clock = clock
        self._stable_after = stable_after
        self._window = window
        self._up_since: float | None = None
        # When the last short connections ended (since the last stable one); only the
        # latest `threshold` matter.
        self._short: deque[float] = deque(maxlen=threshold)
        self._taken_over = False
        self.suspected = False
        # Losses judged takeovers since the start (diagnostics, logs).
        self.detections = 0

    @property
    def up(self) -> bool:
        """Whether a connection is established and not yet lost."""
        return self._up_since is not None

    def established(self) -> None:
        """Note that the broker accepted a connection (CONNACK)."""
        self._up_since = self._clock()

    def lost(self, reason: int | None = None) -> bool:
        """Note that the connection ended (`reason`: an MQTT 5 reason code, if any).

        Return whether it had lived long enough to count as a success. Update
        `suspected`: whether the losses since the last stable connection say that
        another client uses our client id. A loss without an established
        connection (a failed attempt, a second report of one loss) changes nothing.
        """
        if self._up_since is None:
            return False
        now = self._clock()
        stable = now - self._up_since >= self._stable_after
        self._up_since = None
        if stable:
            # A run is "in a row": a connection that held ends it.
            self._short.clear()
            self._taken_over = False
        else:
            self._short.append(now)
        self._taken_over |= reason == SESSION_TAKEN_OVER
        full_run = len(self._short) == self._short.maxlen and now - self._short[0] <= self._window
        self.suspected = self._taken_over or full_run
        if self.suspected:
            self.detections += 1
        return stable
