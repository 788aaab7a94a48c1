"""How IoT Hub names its devices and entities in Home Assistant's registries.

A device seen on a broker is `(iot_hub, "<entry_id>_<device_id>")`; its entities
are `"<entry_id>_<device_id>_<key>"`. Two brokers that both see `ESP32_001` give
two devices, never a clash. The hub device of an entry is `(iot_hub, entry_id)`.
"""

from collections.abc import Iterable

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo

from .const import DOMAIN


def device_identifier(entry_id: str, device_id: str) -> tuple[str, str]:
    """Return the device-registry identifier of a device an entry discovered."""
    return (DOMAIN, f"{entry_id}_{device_id}")


def hub_identifier(entry_id: str) -> tuple[str, str]:
    """Return the device-registry identifier of an entry's hub device."""
    return (DOMAIN, entry_id)


def entity_unique_id(entry_id: str, device_id: str, key: str) -> str:
    """Return the unique id of the entity showing `key` of a device."""
    return f"{entry_id}_{device_id}_{key}"


def device_id_of(entry_id: str, identifiers: Iterable[tuple[str, str]]) -> str | None:
    """Return the entry's own id of a registry device (None: the hub, or not ours)."""
    prefix = f"{entry_id}_"
    for domain, identifier in identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            return identifier.removeprefix(prefix)
    return None


def split_unique_id(entry_id: str, unique_id: str, keys: Iterable[str]) -> tuple[str, str] | None:
    """Split one of the entry's entity unique ids into (device_id, key), for one of `keys`."""
    prefix = f"{entry_id}_"
    if not unique_id.startswith(prefix):
        return None
    rest = unique_id.removeprefix(prefix)
    for key in keys:
        device_id = rest.removesuffix(f"_{key}")
        if device_id != rest and device_id:
            return device_id, key
    return None


def hub_device_info(entry_id: str, name: str, manufacturer: str, model: str) -> DeviceInfo:
    """Return the service device standing for an entry itself (a broker, an account)."""
    return DeviceInfo(
        identifiers={hub_identifier(entry_id)},
        name=name,
        manufacturer=manufacturer,
        model=model,
        entry_type=DeviceEntryType.SERVICE,
    )
