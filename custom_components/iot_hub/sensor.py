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

from .broker.runtime import KEY_FLEET, KEY_REJECTED, IotHub, IotHubConfigEntry
from .core.local.device_state import KEY_FIRMWARE, KEY_LAST_SEEN
from .entity import IotHubEntity, async_setup_device_entities

PARALLEL_UPDATES = 0

type Value = StateType | datetime


def _metric(hub: IotHub, device_id: str, key: str) -> Value:
    return hub.value(device_id, key)


def _last_seen(hub: IotHub, device_id: str, key: str) -> Value:
    state = hub.device(device_id)
    return state.last_seen if state else None


def _device_time(hub: IotHub, device_id: str) -> Mapping[str, Any] | None:
    state = hub.device(device_id)
    if state is None or state.device_time is None:
        return None
    return {"device_time": state.device_time.isoformat()}


def _firmware(hub: IotHub, device_id: str, key: str) -> Value:
    state = hub.device(device_id)
    return str(state.firmware) if state and state.firmware is not None else None


def _rejected(hub: IotHub, device_id: str, key: str) -> Value:
    return sum(hub.rejections.values())


def _fleet(hub: IotHub, device_id: str, key: str) -> Value:
    return hub.fleet()[key.removeprefix("devices_")]


@dataclass(frozen=True, kw_only=True)
class IotHubSensorDescription(SensorEntityDescription):
    """How to read one sensor's value from the hub."""

    value_fn: Callable[[IotHub, str, str], Value] = _metric
    attributes_fn: Callable[[IotHub, str], Mapping[str, Any] | None] | None = None
    # The hub notifies changes under this key (defaults to `key`).
    listen_key: str | None = None


def _measurement(key: str, **kwargs: Any) -> IotHubSensorDescription:
    return IotHubSensorDescription(
        key=key, translation_key=key, state_class=SensorStateClass.MEASUREMENT, **kwargs
    )


def _health(key: str, **kwargs: Any) -> IotHubSensorDescription:
    return _measurement(key, entity_category=EntityCategory.DIAGNOSTIC, **kwargs)


DEVICE_SENSORS: dict[str, IotHubSensorDescription] = {
    description.key: description
    for description in (
        _measurement(
            "temperature",
            device_class=SensorDeviceClass.TEMPERATURE,
            native_unit_of_measurement=UnitOfTemperature.CELSIUS,
            suggested_display_precision=1,
        ),
        _measurement(
            "humidity",
            device_class=SensorDeviceClass.HUMIDITY,
            native_unit_of_measurement=PERCENTAGE,
            suggested_display_precision=0,
        ),
        _measurement(
            "pressure",
            device_class=SensorDeviceClass.ATMOSPHERIC_PRESSURE,
            native_unit_of_measurement=UnitOfPressure.HPA,
            suggested_display_precision=1,
        ),
        _measurement("heart_rate", native_unit_of_measurement="bpm"),
        _measurement("spo2", native_unit_of_measurement=PERCENTAGE),
        _measurement(
            "glucose",
            device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
            native_unit_of_measurement=UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
        ),
        _health(
            "battery",
            device_class=SensorDeviceClass.BATTERY,
            native_unit_of_measurement=PERCENTAGE,
        ),
        _health(
            "rssi",
            device_class=SensorDeviceClass.SIGNAL_STRENGTH,
            native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
            entity_registry_enabled_default=False,
        ),
        _health(
            "signal_quality",
            native_unit_of_measurement=PERCENTAGE,
            entity_registry_enabled_default=False,
        ),
        _health(
            "uptime",
            device_class=SensorDeviceClass.DURATION,
            native_unit_of_measurement=UnitOfTime.SECONDS,
            entity_registry_enabled_default=False,
        ),
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
        value_fn=_rejected,
        attributes_fn=lambda hub, _device_id: dict(hub.rejections),
    ),
    *(
        IotHubSensorDescription(
            key=key,
            translation_key=key,
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=_fleet,
            listen_key=KEY_FLEET,
        )
        for key in ("devices_total", "devices_online", "devices_offline")
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors, restore known ones, and add new ones as devices report."""
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

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Per-reason counts of the rejection counter; the device's clock on last seen."""
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.hub, self.device_id)

    def _refresh(self) -> bool:
        description = self.entity_description
        value = description.value_fn(self.hub, self.device_id, description.key)
        if value is None or value == self._attr_native_value:
            return False
        self._attr_native_value = value
        return True
