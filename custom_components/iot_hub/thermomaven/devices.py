"""Thermometers and their probes in the device registry: a probe is a child device.

A thermometer is `(iot_hub, "<entry_id>_<deviceId>")`; its probe N is the child device
`(iot_hub, "<entry_id>_<deviceId>_probeN")` whose parent is the thermometer's registry
entry. Thermometers that leave the account's list, and probes that leave a thermometer,
are removed from the registry (the list is the account's whole truth).
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import ChildDeviceInfo, DeviceInfo

from ..core.thermomaven.fleet import Thermometer
from ..core.thermomaven.models import MODELS
from ..identifiers import device_identifier

MANUFACTURER = "ThermoMaven"


def probe_device_id(device_id: str, slot: int) -> str:
    """Return the entry-local id of a probe (used in identifiers and unique ids)."""
    return f"{device_id}_probe{slot}"


def split_probe_device_id(local_id: str) -> tuple[str, int | None]:
    """Return (deviceId, slot) of an entry-local id; slot None for the thermometer."""
    device_id, sep, slot = local_id.rpartition("_probe")
    if sep and slot.isdigit() and device_id:
        return device_id, int(slot)
    return local_id, None


def thermometer_info(entry_id: str, device: Thermometer) -> DeviceInfo:
    """Return the registry information of a thermometer."""
    listed = device.listed
    model = MODELS.get(listed.model or "")
    firmware = listed.firmware_version or (device.report.firmware if device.report else None)
    info = DeviceInfo(
        identifiers={device_identifier(entry_id, device.device_id)},
        manufacturer=MANUFACTURER,
        name=listed.name or (model.name if model else listed.model) or MANUFACTURER,
        model=model.name if model else listed.model,
        model_id=listed.model,
        serial_number=listed.serial,
    )
    if firmware is not None:
        info["sw_version"] = str(firmware)
    return info


def probe_info(entry_id: str, device_id: str, slot: int, parent_id: str) -> ChildDeviceInfo:
    """Return the registry information of a probe, child of its thermometer."""
    return ChildDeviceInfo(
        identifiers={device_identifier(entry_id, probe_device_id(device_id, slot))},
        parent_device_id=parent_id,
        translation_key="probe",
        translation_placeholders={"number": str(slot)},
    )


class DeviceRegistrySync:
    """Keep the registry's thermometers and probes in step with the fleet."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self._parents: dict[str, str] = {}

    def parent_id(self, device_id: str) -> str | None:
        """Return the registry id of a registered thermometer."""
        return self._parents.get(device_id)

    def register(self, device: Thermometer) -> str:
        """Create or update a thermometer's registry entry; return its registry id."""
        entry = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry_id, **thermometer_info(self.entry_id, device)
        )
        self._parents[device.device_id] = entry.id
        return entry.id

    def remove(self, local_id: str) -> None:
        """Remove a thermometer (its probes go with it) or a probe from the registry."""
        registry = dr.async_get(self.hass)
        identifier = device_identifier(self.entry_id, local_id)
        device_id, slot = split_probe_device_id(local_id)
        found: dr.AnyDeviceEntry | None
        if slot is None:
            self._parents.pop(device_id, None)
            found = registry.async_get_device_by_identifier(identifier, self.entry_id)
        else:
            found = registry.async_get_child_device_by_identifier(identifier, self.entry_id)
        if found is not None:
            registry.async_remove_device(found.id)
