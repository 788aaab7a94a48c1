"""Whether a broker's entities show their states: kept through short connection losses."""

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later


class Availability:
    """Available while connected, and for `grace` seconds after a loss."""

    def __init__(
        self,
        hass: HomeAssistant,
        grace: float,
        is_connected: Callable[[], bool],
        on_change: Callable[[], None],
    ) -> None:
        self.hass = hass
        self.grace = grace
        self.available = False
        self._is_connected = is_connected
        self._on_change = on_change
        self._cancel: CALLBACK_TYPE | None = None

    @callback
    def connection_changed(self, connected: bool) -> None:
        """Follow the connection: back at once, gone only after the grace period."""
        if connected:
            self.stop()
            if not self.available:
                self.available = True
                self._on_change()
        elif self._cancel is None:
            # Keep states through short blips; only a long outage shows.
            self._cancel = async_call_later(self.hass, self.grace, self._expired)

    @callback
    def _expired(self, _now: datetime) -> None:
        self._cancel = None
        if not self._is_connected():
            self.available = False
            self._on_change()

    @callback
    def stop(self) -> None:
        """Cancel a running grace period."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None
