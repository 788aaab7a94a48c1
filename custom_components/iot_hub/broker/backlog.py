"""Messages that arrive before the platforms are ready, replayed in order once they are.

A persistent session delivers its queue right after CONNACK, and the retained
messages of thousands of topics arrive at once: they wait here, then are replayed
a slice at a time so the event loop keeps its turns.
"""

import asyncio
from collections import deque
from collections.abc import Callable
import time
from typing import Final

from homeassistant.core import callback

# At most this many wait; beyond, they are dropped (and counted).
MAX_EARLY_MESSAGES: Final = 10_000
# Replayed this long at a time, then the loop gets a turn: each new device costs
# milliseconds.
REPLAY_SECONDS: Final = 0.005


class StartupBacklog:
    """Hold messages until `replay`, then hand each one straight to `dispatch`."""

    def __init__(self, dispatch: Callable[[str, bytes], None]) -> None:
        self._dispatch = dispatch
        self._early: deque[tuple[str, bytes]] | None = deque()
        self.dropped = 0

    @callback
    def on_message(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Queue a message while the platforms are being set up, else dispatch it."""
        if self._early is None:
            self._dispatch(topic, payload)
        elif len(self._early) < MAX_EARLY_MESSAGES:
            self._early.append((topic, payload))
        else:
            self.dropped += 1

    async def replay(self) -> None:
        """Dispatch what waits, in slices; later messages queue behind it, in order."""
        early = self._early
        while early:
            deadline = time.monotonic() + REPLAY_SECONDS
            while early and time.monotonic() < deadline:
                self._dispatch(*early.popleft())
            if early:
                await asyncio.sleep(0)
        self._early = None
