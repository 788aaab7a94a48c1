"""One climate entity per probe: heat = cooking towards the target, off = no cook."""

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.climate import ClimateEntity, ClimateEntityDescription
from homeassistant.components.climate.const import (
    ATTR_HVAC_MODE,
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.const import ATTR_TEMPERATURE
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.thermomaven.fleet import Thermometer
from ..core.thermomaven.models import TemperatureUnit
from ..runtime import IotHubConfigEntry
from .commands import probe_unavailable
from .entity import (
    ThermoMavenEntity,
    ThermoMavenEntityDescription,
    async_setup_thermomaven_entities,
)
from .sensors import UNITS


@dataclass(frozen=True, kw_only=True)
class ProbeClimateDescription(ThermoMavenEntityDescription, ClimateEntityDescription):
    """The description of a probe's climate entity."""


CLIMATE: Final = ProbeClimateDescription(key="cook", name=None, probe=True)
# Targets the apps offer, in whole degrees of each unit.
RANGES: Final = {
    TemperatureUnit.CELSIUS: (1.0, 300.0),
    TemperatureUnit.FAHRENHEIT: (33.0, 572.0),
}
# Target used when cooking starts from "heat" with no target known yet (°C / °F).
DEFAULT_TARGET: Final = {TemperatureUnit.CELSIUS: 63.0, TemperatureUnit.FAHRENHEIT: 145.0}


def async_setup_climates(
    entry: IotHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add a climate entity per probe, now and as probes appear."""
    async_setup_thermomaven_entities(entry, async_add_entities, (CLIMATE,), ProbeClimate)


class ProbeClimate(ThermoMavenEntity, ClimateEntity):
    """A probe as a thermostat: current and target temperature, cooking or not."""

    _attr_hvac_modes = [HVACMode.OFF, HVACMode.HEAT]
    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.TURN_ON
        | ClimateEntityFeature.TURN_OFF
    )
    _attr_target_temperature_step = 1.0
    _attr_precision = 0.1
    _attr_translation_key = "probe"
    entity_description: ProbeClimateDescription
    # What the state shows (unit, range, current, target, mode), to write only changes.
    _shown: tuple[object, ...] = ()

    def _unit(self, device: Thermometer) -> TemperatureUnit:
        return device.report.unit if device.report else self.runtime.unit

    def _refresh(self) -> bool:
        device = self.device
        if device is None or self.slot is None:
            return False
        unit = self._unit(device)
        probe = self.probe
        cooking = probe is not None and bool(probe.cooking or probe.cooking_state == "cooking")
        wanted = self.runtime.commands.target((self.device_id, self.slot))
        values = (
            UNITS[unit],
            *RANGES[unit],
            None if probe is None else probe.temperature,
            wanted if wanted is not None else (None if probe is None else probe.target),
            HVACMode.HEAT if cooking else HVACMode.OFF,
        )
        if values == self._shown:
            return False
        self._shown = values
        (
            self._attr_temperature_unit,
            self._attr_min_temp,
            self._attr_max_temp,
            self._attr_current_temperature,
            self._attr_target_temperature,
            self._attr_hvac_mode,
        ) = values
        self._attr_hvac_action = HVACAction.HEATING if cooking else HVACAction.OFF
        return True

    def _show(self) -> None:
        self._refresh()
        self.async_write_ha_state()

    def _thermometer(self) -> tuple[Thermometer, int]:
        device = self.device
        if device is None or self.slot is None:
            raise probe_unavailable(self.slot or 0)
        return device, self.slot

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the target (whole degrees); off in the same call stops the cook."""
        if kwargs.get(ATTR_HVAC_MODE) == HVACMode.OFF:
            await self.async_set_hvac_mode(HVACMode.OFF)
            return
        target = float(round(float(kwargs[ATTR_TEMPERATURE])))
        device, slot = self._thermometer()
        await self.runtime.commands.set_target(device, slot, target, self._show)

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Heat starts a cook towards the current target; off stops it."""
        device, slot = self._thermometer()
        if hvac_mode == HVACMode.OFF:
            await self.runtime.commands.stop(device, slot)
            return
        target = self._attr_target_temperature or DEFAULT_TARGET[self._unit(device)]
        await self.runtime.commands.set_target(device, slot, target, self._show)
