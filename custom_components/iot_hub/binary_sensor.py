"""Binary sensors: motion, occupancy, device connectivity, broker connection."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import (
    DOMAIN as BINARY_SENSOR_DOMAIN,
    BinarySensorDeviceClass,
)
from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .broker.runtime import KEY_BROKER, BrokerRuntime
from .const import HUB_DEVICE
from .core.local.device_state import KEY_CONNECTIVITY, KEY_MOTION, KEY_OCCUPANCY
from .entity import IotHubEntity, IotHubEntityDescription, async_setup_device_entities
from .incidents.manager import KEY_INCIDENT
from .runtime import CONF_KIND, EntryKind, IotHubConfigEntry
from .thermomaven.binary_sensors import async_setup_binary_sensors

PARALLEL_UPDATES = 0

EVENT_ATTRIBUTES = ("event_id", "source", "device_time", "presence", "pressure", "duration_ms")


@dataclass(frozen=True, kw_only=True)
class IotHubBinarySensorDescription(IotHubEntityDescription, BinarySensorEntityDescription):
    """How to read one binary sensor from the runtime."""

    is_on_fn: Callable[[BrokerRuntime, str], bool | None]
    # Momentary: on at each event, off after the configured delay (PIR, mat).
    momentary: bool = False
    # Written whenever notified (its attributes change without its state).
    always_write: bool = False


def _connectivity(runtime: BrokerRuntime, device_id: str) -> bool | None:
    state = runtime.devices.get(device_id)
    return state.online if state else None


def _offline_since(runtime: BrokerRuntime, device_id: str) -> Mapping[str, Any] | None:
    """Tell when an offline device was last heard (absent while online: no write per message)."""
    state = runtime.devices.get(device_id)
    if state is None or state.online is not False or state.last_seen is None:
        return None
    return {"last_seen": state.last_seen.isoformat()}


def _incident_on(runtime: BrokerRuntime, device_id: str) -> bool:
    return bool(runtime.incidents.for_device(device_id))


def _incident_attributes(runtime: BrokerRuntime, device_id: str) -> Mapping[str, Any] | None:
    """Describe the most severe open incident of the device (newest first among equals)."""
    incidents = runtime.incidents.for_device(device_id)
    if not incidents:
        return None
    top = incidents[0]
    return {
        "incident_id": top.id,
        "severity": top.severity.value,
        "status": top.status.value,
        "kind": top.kind.value,
        "metric": top.metric,
        "value": top.value,
        "threshold": top.threshold,
        "message": top.message,
        "opened_at": top.opened_at.isoformat(),
        "acknowledged_by": top.acknowledged_by,
        "acknowledged_at": top.acknowledged_at.isoformat() if top.acknowledged_at else None,
        "open_incidents": len(incidents),
    }


def _event(key: str) -> Callable[[BrokerRuntime, str], bool | None]:
    def is_on(runtime: BrokerRuntime, device_id: str) -> bool | None:
        state = runtime.devices.get(device_id)
        return state.event_on(key) if state else None

    return is_on


def _event_attributes(key: str) -> Callable[[BrokerRuntime, str], Mapping[str, Any] | None]:
    def attributes(runtime: BrokerRuntime, device_id: str) -> Mapping[str, Any] | None:
        state = runtime.devices.get(device_id)
        return state.event_attributes.get(key) if state else None

    return attributes


BROKER_CONNECTION = IotHubBinarySensorDescription(
    key=KEY_BROKER,
    translation_key=KEY_BROKER,
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    is_on_fn=lambda runtime, _device_id: runtime.client.connected,
)

DEVICE_BINARY_SENSORS: dict[str, IotHubBinarySensorDescription] = {
    description.key: description
    for description in (
        IotHubBinarySensorDescription(
            key=KEY_CONNECTIVITY,
            translation_key=KEY_CONNECTIVITY,
            device_class=BinarySensorDeviceClass.CONNECTIVITY,
            entity_category=EntityCategory.DIAGNOSTIC,
            is_on_fn=_connectivity,
            attributes_fn=_offline_since,
        ),
        IotHubBinarySensorDescription(
            key=KEY_INCIDENT,
            translation_key=KEY_INCIDENT,
            device_class=BinarySensorDeviceClass.PROBLEM,
            is_on_fn=_incident_on,
            attributes_fn=_incident_attributes,
            # A new incident under one already open changes the attributes only.
            always_write=True,
        ),
        *(
            IotHubBinarySensorDescription(
                key=key,
                translation_key=key,
                device_class=device_class,
                is_on_fn=_event(key),
                attributes_fn=_event_attributes(key),
                momentary=True,
            )
            for key, device_class in (
                (KEY_MOTION, BinarySensorDeviceClass.MOTION),
                (KEY_OCCUPANCY, BinarySensorDeviceClass.OCCUPANCY),
            )
        ),
    )
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the broker sensor, restore known ones, and add new ones as devices report."""
    if entry.data.get(CONF_KIND) == EntryKind.THERMOMAVEN:
        async_setup_binary_sensors(entry, async_add_entities)
        return
    async_setup_device_entities(
        entry,
        async_add_entities,
        BINARY_SENSOR_DOMAIN,
        DEVICE_BINARY_SENSORS,
        IotHubBinarySensor,
        hub_descriptions=(BROKER_CONNECTION,),
    )


class IotHubBinarySensor(IotHubEntity, BinarySensorEntity, RestoreEntity):
    """An on/off state of a device or of the broker connection."""

    entity_description: IotHubBinarySensorDescription
    _restored_attributes: Mapping[str, Any] | None = None

    async def async_added_to_hass(self) -> None:
        """Restore the last state so nothing is unknown after a restart."""
        await super().async_added_to_hass()
        if (
            self._attr_is_on is not None
            or self.device_id == HUB_DEVICE
            or (last := await self.async_get_last_state()) is None
            or last.state not in (STATE_ON, STATE_OFF)
        ):
            return
        description = self.entity_description
        if not description.momentary:
            self._attr_is_on = last.state == STATE_ON
            return
        # Momentary: "on" only while its off delay runs (the runtime re-arms it).
        self._attr_is_on = last.state == STATE_ON and self.runtime.restore_momentary(
            self.device_id, description.key, last.last_changed
        )
        self._restored_attributes = {
            key: value for key, value in last.attributes.items() if key in EVENT_ATTRIBUTES
        }

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The last event's id, source, time...: from the runtime, else as restored."""
        return super().extra_state_attributes or self._restored_attributes

    def _refresh(self) -> bool:
        is_on = self.entity_description.is_on_fn(self.runtime, self.device_id)
        if is_on is None:
            return False
        # A new event with the same on/off state still changes its attributes.
        description = self.entity_description
        changed = is_on != self._attr_is_on or description.momentary or description.always_write
        self._attr_is_on = is_on
        return changed
