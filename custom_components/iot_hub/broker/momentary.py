"""Momentary states (PIR motion, pressure mat): on at each event, off after a delay."""

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ..core.local.device_state import DeviceState


class OffTimers:
    """One pending "turn off" per (device, key)."""

    def __init__(self, hass: HomeAssistant, turn_off: Callable[[str, str], None]) -> None:
        self.hass = hass
        self._turn_off = turn_off
        self._timers: dict[tuple[str, str], CALLBACK_TYPE] = {}

    @callback
    def cancel(self, device_id: str, key: str) -> None:
        """Forget the pending turn-off of this state, if any."""
        if (cancel := self._timers.pop((device_id, key), None)) is not None:
            cancel()

    @callback
    def cancel_device(self, device_id: str) -> None:
        """Forget every pending turn-off of a device."""
        for which in [which for which in self._timers if which[0] == device_id]:
            self._timers.pop(which)()

    @callback
    def cancel_all(self) -> None:
        """Forget every pending turn-off (the entry stops)."""
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()

    @callback
    def restore(self, state: DeviceState, key: str, remaining: float) -> bool:
        """Take back a state that was on before a restart if `remaining` s of delay are left."""
        if remaining <= 0:
            return False
        if state.event_on(key) is None:
            state.restore_event(key)
            self.schedule(state.device_id, key, remaining)
        return state.event_on(key) is True

    @callback
    def schedule(self, device_id: str, key: str, delay: float) -> None:
        """Turn this state off in `delay` seconds (replacing a pending turn-off)."""
        self.cancel(device_id, key)

        @callback
        def fire(_now: datetime) -> None:
            self._timers.pop((device_id, key), None)
            self._turn_off(device_id, key)

        self._timers[(device_id, key)] = async_call_later(self.hass, delay, fire)
