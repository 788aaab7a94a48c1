"""What every kind of IoT Hub entry provides to the shared Home Assistant layer.

An entry is either an MQTT broker or a ThermoMaven cloud account; `entry.data["kind"]`
says which (added in entry version 1.2). `entry.runtime_data` is the entry's
runtime object; setup, unload and device removal only use this
protocol, platforms ask for the concrete kind they have entities for.
"""

from enum import StrEnum
from typing import Final, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.helpers.device_registry import DeviceInfo

CONF_KIND: Final = "kind"


class EntryKind(StrEnum):
    """The kinds of config entry IoT Hub has."""

    BROKER = "broker"
    THERMOMAVEN = "thermomaven"


class IotHubRuntime(Protocol):
    """The runtime object of one entry, whatever its kind."""

    kind: EntryKind
    platforms: tuple[Platform, ...]

    async def async_start(self) -> None:
        """Connect; raise ConfigEntryNotReady / ConfigEntryAuthFailed as setup expects."""

    async def async_platforms_ready(self) -> None:
        """Start delivering updates (the platforms are set up)."""

    async def async_stop(self) -> None:
        """Disconnect and cancel every timer."""

    def hub_device_info(self) -> DeviceInfo:
        """Describe the device standing for the entry itself."""

    def forget_device(self, device_id: str) -> bool:
        """Forget a device the user deletes; return False to refuse (it is still there)."""


type IotHubConfigEntry = ConfigEntry[IotHubRuntime]
