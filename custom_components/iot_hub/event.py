"""Event entities: each incident change, each motion and each press, as it happens."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import (
    DOMAIN as EVENT_DOMAIN,
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .broker.runtime import BrokerRuntime
from .const import EVENT_DEVICE
from .core.incidents import Phase
from .core.local.device_state import KEY_MOTION, KEY_OCCUPANCY
from .entity import IotHubEntity, IotHubEntityDescription, async_setup_device_entities
from .incidents.manager import KEY_INCIDENT, KEY_INCIDENT_EVENT
from .runtime import IotHubConfigEntry

PARALLEL_UPDATES = 0

type Fired = tuple[str, dict[str, Any]] | None


@dataclass(frozen=True, kw_only=True)
class IotHubEventDescription(IotHubEntityDescription, EventEntityDescription):
    """What fires the event entity, read from the runtime when it is notified."""

    event_fn: Callable[[BrokerRuntime, str], Fired]
    # Also fired on the bus for device triggers ("motion detected", "pressed").
    device_trigger: bool = False


def _incident(runtime: BrokerRuntime, device_id: str) -> Fired:
    change = runtime.incidents.last_change(device_id)
    if change is None:
        return None
    incident = change.incident
    return change.phase.value, {
        "incident_id": incident.id,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "metric": incident.metric,
        "value": incident.value,
        "threshold": incident.threshold,
        "acknowledged_by": incident.acknowledged_by,
        "updated_at": incident.updated_at.isoformat(),
    }


def _motion(runtime: BrokerRuntime, device_id: str) -> Fired:
    state = runtime.devices.get(device_id)
    if state is None or (attributes := state.event_attributes.get(KEY_MOTION)) is None:
        return None
    # What the event said, not the state now (its off timer may have run since).
    return ("detected" if attributes.get("presence", True) else "cleared"), dict(attributes)


def _pressed(runtime: BrokerRuntime, device_id: str) -> Fired:
    state = runtime.devices.get(device_id)
    if state is None or (attributes := state.event_attributes.get(KEY_OCCUPANCY)) is None:
        return None
    return "pressed", dict(attributes)


DEVICE_EVENTS: dict[str, IotHubEventDescription] = {
    description.key: description
    for description in (
        IotHubEventDescription(
            key=KEY_INCIDENT,
            translation_key=KEY_INCIDENT,
            event_types=[phase.value for phase in Phase],
            event_fn=_incident,
            listen_key=KEY_INCIDENT_EVENT,
        ),
        IotHubEventDescription(
            key=KEY_MOTION,
            translation_key=KEY_MOTION,
            device_class=EventDeviceClass.MOTION,
            event_types=["detected", "cleared"],
            event_fn=_motion,
            listen_key=f"{KEY_MOTION}_event",
            device_trigger=True,
        ),
        IotHubEventDescription(
            key=KEY_OCCUPANCY,
            translation_key="pressed",
            device_class=EventDeviceClass.BUTTON,
            event_types=["pressed"],
            event_fn=_pressed,
            listen_key=f"{KEY_OCCUPANCY}_event",
            device_trigger=True,
        ),
    )
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Restore known event entities and add new ones as devices report."""
    async_setup_device_entities(entry, async_add_entities, EVENT_DOMAIN, DEVICE_EVENTS, IotHubEvent)


class IotHubEvent(IotHubEntity, EventEntity):
    """Fires once per incident change, motion or press of a device."""

    entity_description: IotHubEventDescription
    # What was fired last: a refresh (availability) must not fire it again.
    _last_fired: str | None = None

    def _refresh(self) -> bool:
        # Nothing to show before the first event (the entity restores its last one).
        return False

    @callback
    def _handle_update(self) -> None:
        available = self.runtime.entity_available(self.device_id, self.entity_description.key)
        fired = self.entity_description.event_fn(self.runtime, self.device_id)
        token = None if fired is None else f"{fired[0]}:{sorted(fired[1].items())}"
        new = fired is not None and token != self._last_fired and fired[0] in self.event_types
        if available == self._attr_available and not new:
            return
        self._attr_available = available
        if new and fired is not None:
            self._last_fired = token
            self._trigger_event(fired[0], fired[1])
            if self.entity_description.device_trigger:
                self._fire_device_trigger(fired[0])
        if (context := self.runtime.listeners.message_context()) is not None:
            self.async_set_context(context)
        self.async_write_ha_state()

    def _fire_device_trigger(self, event_type: str) -> None:
        device_id = self.registry_entry.device_id if self.registry_entry else None
        self.hass.bus.async_fire(
            EVENT_DEVICE,
            {
                "device_id": device_id,
                "entity_id": self.entity_id,
                "type": f"{self.entity_description.key}_{event_type}",
            },
        )
