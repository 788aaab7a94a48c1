"""Sensors of thermometers and probes: temperatures, target, batteries, cook state and times."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from ..core.thermomaven.fleet import Thermometer
from ..core.thermomaven.models import Probe, TemperatureUnit
from ..runtime import IotHubConfigEntry
from .entity import (
    ThermoMavenEntity,
    ThermoMavenEntityDescription,
    async_setup_thermomaven_entities,
)

UNITS: Final = {
    TemperatureUnit.CELSIUS: UnitOfTemperature.CELSIUS,
    TemperatureUnit.FAHRENHEIT: UnitOfTemperature.FAHRENHEIT,
}
# cookingState values seen or presumed (public protocol notes); "charged"/"charge" is a
# probe in its dock; anything else shows as "other".
COOK_STATES: Final = ("cooking", "resting", "done", "ready", "idle", "standby", "removed")
COOK_STATE_OPTIONS: Final = [*COOK_STATES, "docked", "other"]


@dataclass(frozen=True, kw_only=True)
class ThermoMavenSensorDescription(ThermoMavenEntityDescription, SensorEntityDescription):
    """How to read a sensor from a thermometer (and its probe, for probe sensors)."""

    value_fn: Callable[[Thermometer, Probe | None], StateType]
    temperature: bool = False


def _cook_state(probe: Probe | None) -> str | None:
    if probe is None:
        return None
    if probe.docked:
        return "docked"
    state = probe.cooking_state
    if state is None:
        return None
    return state if state in COOK_STATES else "other"


def _temperature(key: str, read: Callable[[Probe], float | None]) -> ThermoMavenSensorDescription:
    return ThermoMavenSensorDescription(
        key=key,
        translation_key=key,
        probe=True,
        temperature=True,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda _d, probe: None if probe is None else read(probe),
    )


def _seconds(key: str, read: Callable[[Probe], int | None]) -> ThermoMavenSensorDescription:
    return ThermoMavenSensorDescription(
        key=key,
        translation_key=key,
        probe=True,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=lambda _d, probe: None if probe is None else read(probe),
    )


SENSORS: Final[tuple[ThermoMavenSensorDescription, ...]] = (
    _temperature("probe_temperature", lambda probe: probe.temperature),
    _temperature("ambient_temperature", lambda probe: probe.ambient),
    ThermoMavenSensorDescription(
        key="target_temperature",
        translation_key="target_temperature",
        probe=True,
        temperature=True,
        device_class=SensorDeviceClass.TEMPERATURE,
        suggested_display_precision=0,
        value_fn=lambda _d, probe: None if probe is None else probe.target,
    ),
    ThermoMavenSensorDescription(
        key="probe_battery",
        translation_key="probe_battery",
        probe=True,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda _d, probe: None if probe is None else probe.battery,
    ),
    ThermoMavenSensorDescription(
        key="cook_state",
        translation_key="cook_state",
        probe=True,
        device_class=SensorDeviceClass.ENUM,
        options=COOK_STATE_OPTIONS,
        value_fn=lambda _d, probe: _cook_state(probe),
    ),
    _seconds("elapsed_time", lambda probe: probe.elapsed_sec),
    _seconds("remaining_time", lambda probe: probe.remaining_sec),
    ThermoMavenSensorDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda device, _p: device.report.battery if device.report else None,
    ),
    ThermoMavenSensorDescription(
        key="wifi_rssi",
        translation_key="wifi_rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda device, _p: device.report.wifi_rssi if device.report else None,
    ),
)


def async_setup_sensors(
    entry: IotHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the sensors of every thermometer and probe, now and as they appear."""
    async_setup_thermomaven_entities(entry, async_add_entities, SENSORS, ThermoMavenSensor)


class ThermoMavenSensor(ThermoMavenEntity, SensorEntity):
    """A value of a thermometer or probe."""

    entity_description: ThermoMavenSensorDescription
    _unit_shown: str | None = None

    def _refresh(self) -> bool:
        device = self.device
        if device is None:
            return False
        changed = False
        if self.entity_description.temperature:
            unit = UNITS[device.report.unit if device.report else self.runtime.unit]
            if unit != self._unit_shown:
                self._unit_shown = self._attr_native_unit_of_measurement = unit
                changed = True
        value = self.entity_description.value_fn(device, self.probe)
        if value != self._attr_native_value:
            self._attr_native_value = value
            changed = True
        return changed
