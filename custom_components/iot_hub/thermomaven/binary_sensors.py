"""Binary sensors of the ThermoMaven side: the account's cloud link, thermometers online."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from ..core.thermomaven.fleet import Thermometer
from ..core.thermomaven.models import Probe
from ..runtime import IotHubConfigEntry
from .entity import (
    AccountConnectionEntity,
    ThermoMavenEntity,
    ThermoMavenEntityDescription,
    async_setup_thermomaven_entities,
)
from .runtime import ThermoMavenRuntime


@dataclass(frozen=True, kw_only=True)
class ThermoMavenBinarySensorDescription(
    ThermoMavenEntityDescription, BinarySensorEntityDescription
):
    """How to read a binary sensor from a thermometer (and its probe)."""

    value_fn: Callable[[Thermometer, Probe | None], bool | None]


BINARY_SENSORS: Final = (
    ThermoMavenBinarySensorDescription(
        key="online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda device, _p: device.online,
    ),
    ThermoMavenBinarySensorDescription(
        key="docked",
        translation_key="docked",
        probe=True,
        value_fn=lambda _d, probe: None if probe is None else probe.docked,
    ),
)
CLOUD: Final = BinarySensorEntityDescription(
    key="cloud_connection",
    translation_key="cloud_connection",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def async_setup_binary_sensors(
    entry: IotHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the account's connection sensor and every thermometer's and probe's."""
    runtime = entry.runtime_data
    assert isinstance(runtime, ThermoMavenRuntime)
    async_setup_thermomaven_entities(
        entry,
        async_add_entities,
        BINARY_SENSORS,
        ThermoMavenBinarySensor,
        account_entities=[CloudConnectionSensor(runtime, CLOUD)],
    )


class ThermoMavenBinarySensor(ThermoMavenEntity, BinarySensorEntity):
    """An on/off value of a thermometer or probe."""

    entity_description: ThermoMavenBinarySensorDescription

    def _is_available(self) -> bool:
        if self.entity_description.key == "online":
            # Shows "off" for a thermometer that is switched off, not "unavailable".
            return self.runtime.availability.available and self.device is not None
        return super()._is_available()

    def _refresh(self) -> bool:
        device = self.device
        value = None if device is None else self.entity_description.value_fn(device, self.probe)
        if value == self._attr_is_on:
            return False
        self._attr_is_on = value
        return True


class CloudConnectionSensor(AccountConnectionEntity, BinarySensorEntity):
    """Whether the account's MQTT connection to the cloud is up."""

    def _refresh(self) -> bool:
        connected = self.runtime.connected
        if connected == self._attr_is_on:
            return False
        self._attr_is_on = connected
        return True
