"""Waiting on what a user would see, without sleeps."""

import asyncio
from collections.abc import Callable

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers.event import async_track_state_change_event

TIMEOUT = 15.0


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    predicate: Callable[[State], bool],
    timeout: float = TIMEOUT,
) -> State:
    """Return the entity's state once `predicate` holds (now or after a change)."""
    state = hass.states.get(entity_id)
    if state is not None and predicate(state):
        return state
    done: asyncio.Future[State] = hass.loop.create_future()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and predicate(new) and not done.done():
            done.set_result(new)

    unsub = async_track_state_change_event(hass, [entity_id], changed)
    try:
        async with asyncio.timeout(timeout):
            return await done
    except TimeoutError:
        raise AssertionError(
            f"{entity_id} never matched; last state: {hass.states.get(entity_id)}"
        ) from None
    finally:
        unsub()


async def wait_for_value(
    hass: HomeAssistant, entity_id: str, value: str, timeout: float = TIMEOUT
) -> State:
    """Return the entity's state once it equals `value`."""
    return await wait_for_state(hass, entity_id, lambda s: s.state == value, timeout)
