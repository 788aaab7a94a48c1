"""Sensors: device measurements and health, and the hub's counters."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    RestoreSensor,
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfBloodGlucoseConcentration,
    UnitOfPressure,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .broker.runtime import KEY_FLEET, KEY_REJECTED, BrokerRuntime
from .core.local.device_state import KEY_FIRMWARE, KEY_LAST_SEEN
from .entity import IotHubEntity, IotHubEntityDescription, async_setup_device_entities
from .incidents.manager import KEY_INCIDENTS
from .runtime import CONF_KIND, EntryKind, IotHubConfigEntry
from .thermomaven.sensors import async_setup_sensors

PARALLEL_UPDATES = 0

type Value = StateType | datetime


@dataclass(frozen=True, kw_only=True)
class IotHubSensorDescription(IotHubEntityDescription, SensorEntityDescription):
    """How to read one sensor's value from the runtime."""

    value_fn: Callable[[BrokerRuntime, str], Value]


def _metric(key: str) -> Callable[[BrokerRuntime, str], Value]:
    def value(runtime: BrokerRuntime, device_id: str) -> Value:
        state = runtime.devices.get(device_id)
        return state.values.get(key) if state else None

    return value


def _last_seen(runtime: BrokerRuntime, device_id: str) -> Value:
    state = runtime.devices.get(device_id)
    return state.last_seen if state else None


def _device_time(runtime: BrokerRuntime, device_id: str) -> Mapping[str, Any] | None:
    state = runtime.devices.get(device_id)
    if state is None or state.device_time is None:
        return None
    return {"device_time": state.device_time.isoformat()}


def _firmware(runtime: BrokerRuntime, device_id: str) -> Value:
    state = runtime.devices.get(device_id)
    return str(state.firmware) if state and state.firmware is not None else None


def _fleet(which: str) -> Callable[[BrokerRuntime, str], Value]:
    return lambda runtime, _device_id: runtime.devices.fleet()[which]


def _incidents_summary(runtime: BrokerRuntime, device_id: str) -> Mapping[str, Any]:
    incidents = runtime.incidents.open_incidents()
    highest = runtime.incidents.highest_severity()
    return {
        "highest_severity": highest.value if highest else None,
        "incident_ids": [incident.id for incident in incidents],
    }


def _measurement(
    key: str,
    unit: str | None,
    device_class: SensorDeviceClass | None = None,
    precision: int | None = None,
    *,
    health: bool = False,
    enabled: bool = True,
) -> IotHubSensorDescription:
    """Describe a number a device reports (health values are diagnostics)."""
    return IotHubSensorDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.MEASUREMENT,
        device_class=device_class,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        entity_category=EntityCategory.DIAGNOSTIC if health else None,
        entity_registry_enabled_default=enabled,
        value_fn=_metric(key),
    )


def _health(
    key: str, unit: str, device_class: SensorDeviceClass | None, *, enabled: bool
) -> IotHubSensorDescription:
    # Battery %, RSSI dBm, signal quality %, uptime s: whole numbers, sent as floats too.
    return _measurement(key, unit, device_class, 0, health=True, enabled=enabled)


DEVICE_SENSORS: dict[str, IotHubSensorDescription] = {
    description.key: description
    for description in (
        _measurement("temperature", UnitOfTemperature.CELSIUS, SensorDeviceClass.TEMPERATURE, 1),
        _measurement("humidity", PERCENTAGE, SensorDeviceClass.HUMIDITY, 0),
        _measurement("pressure", UnitOfPressure.HPA, SensorDeviceClass.ATMOSPHERIC_PRESSURE, 1),
        _measurement("heart_rate", "bpm", None, 0),
        _measurement("spo2", PERCENTAGE, None, 0),
        _measurement(
            "glucose",
            UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
            SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
            0,
        ),
        _health("battery", PERCENTAGE, SensorDeviceClass.BATTERY, enabled=True),
        _health(
            "rssi",
            SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
            SensorDeviceClass.SIGNAL_STRENGTH,
            enabled=False,
        ),
        _health("signal_quality", PERCENTAGE, None, enabled=False),
        _health("uptime", UnitOfTime.SECONDS, SensorDeviceClass.DURATION, enabled=False),
        IotHubSensorDescription(
            key=KEY_LAST_SEEN,
            translation_key=KEY_LAST_SEEN,
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=_last_seen,
            attributes_fn=_device_time,
        ),
        IotHubSensorDescription(
            key=KEY_FIRMWARE,
            translation_key=KEY_FIRMWARE,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_firmware,
        ),
    )
}

HUB_SENSORS: tuple[IotHubSensorDescription, ...] = (
    IotHubSensorDescription(
        key=KEY_REJECTED,
        translation_key=KEY_REJECTED,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0,
        value_fn=lambda runtime, _device_id: runtime.quarantine.total,
        attributes_fn=lambda runtime, _device_id: dict(runtime.quarantine.counts),
    ),
    IotHubSensorDescription(
        key="open_incidents",
        translation_key="open_incidents",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda runtime, _device_id: len(runtime.incidents.open_incidents()),
        attributes_fn=_incidents_summary,
        listen_key=KEY_INCIDENTS,
    ),
    *(
        IotHubSensorDescription(
            key=f"devices_{which}",
            translation_key=f"devices_{which}",
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=0,
            value_fn=_fleet(which),
            listen_key=KEY_FLEET,
        )
        for which in ("total", "online", "offline")
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors, restore known ones, and add new ones as devices report."""
    if entry.data.get(CONF_KIND) == EntryKind.THERMOMAVEN:
        async_setup_sensors(entry, async_add_entities)
        return
    async_setup_device_entities(
        entry,
        async_add_entities,
        SENSOR_DOMAIN,
        DEVICE_SENSORS,
        IotHubSensor,
        hub_descriptions=HUB_SENSORS,
    )


class IotHubSensor(IotHubEntity, RestoreSensor):
    """A value of a device, or a counter of the hub."""

    entity_description: IotHubSensorDescription

    async def async_added_to_hass(self) -> None:
        """Restore the last value so nothing is unknown after a restart."""
        await super().async_added_to_hass()
        if self._attr_native_value is None and (last := await self.async_get_last_sensor_data()):
            self._attr_native_value = last.native_value

    def _refresh(self) -> bool:
        value = self.entity_description.value_fn(self.runtime, self.device_id)
        if value is None or value == self._attr_native_value:
            return False
        self._attr_native_value = value
        return True
