"""What IoT Hub knows about one device, and how decoded messages change it."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models import DeviceModel, DeviceStatus, Event, EventType, Reading, Status

# Entity keys that are not metrics.
KEY_LAST_SEEN = "last_seen"
KEY_FIRMWARE = "firmware"
KEY_CONNECTIVITY = "connectivity"
KEY_MOTION = "motion"
KEY_OCCUPANCY = "occupancy"

MANUFACTURERS: dict[DeviceModel, str] = {
    DeviceModel.DHT11: "Aosong",
    DeviceModel.ESP32: "Espressif",
    DeviceModel.RASPBERRY_PI: "Raspberry Pi Ltd",
}


@dataclass(slots=True)
class DeviceState:
    """Last known values and health of one device."""

    device_id: str
    model: DeviceModel | None = None
    firmware: str | None = None
    values: dict[str, float] = field(default_factory=dict)
    last_seen: datetime | None = None
    # The device's own clock at its last message (kept, never used for state).
    device_time: datetime | None = None
    status: DeviceStatus | None = None
    silent: bool = False
    motion: bool | None = None
    occupancy: bool | None = None
    event_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def online(self) -> bool | None:
        """Reachable per its status topic and its silence; None before any news."""
        if self.silent or self.status is DeviceStatus.OFFLINE:
            return False
        if self.status is not None or self.last_seen is not None:
            return True
        return None

    def seen(self, now: datetime) -> set[str]:
        """Record a message; return the keys whose state changed."""
        was_online = self.online
        self.last_seen = now
        self.silent = False
        changed = {KEY_LAST_SEEN}
        if self.online != was_online:
            changed.add(KEY_CONNECTIVITY)
        return changed

    def learn(self, model: DeviceModel | None, firmware: str | None) -> bool:
        """Take a better model or a new firmware; return whether anything changed."""
        changed = False
        if (model is not None and model is not DeviceModel.GENERIC and model != self.model) or (
            self.model is None and model is not None
        ):
            self.model = model
            changed = True
        if firmware is not None and firmware != self.firmware:
            self.firmware = firmware
            changed = True
        return changed

    def apply_reading(self, reading: Reading) -> set[str]:
        """Take new values; return the keys whose value changed."""
        changed = {key for key, value in reading.values.items() if self.values.get(key) != value}
        self.values.update(reading.values)
        if reading.device_time is not None:
            self.device_time = reading.device_time
        return changed

    def apply_status(self, status: Status) -> set[str]:
        """Take a status report; return the keys whose state changed."""
        was_online = self.online
        self.status = status.status
        if status.device_time is not None:
            self.device_time = status.device_time
        changed = {key for key, value in status.values.items() if self.values.get(key) != value}
        self.values.update(status.values)
        if self.online != was_online:
            changed.add(KEY_CONNECTIVITY)
        return changed

    def apply_event(self, event: Event) -> str:
        """Take a motion or pressure event; return the key it drives."""
        attributes: dict[str, Any] = {"event_id": event.event_id, "source": event.source}
        if event.device_time is not None:
            attributes["device_time"] = event.device_time.isoformat()
        if event.type is EventType.MOTION_DETECTED:
            self.motion = event.presence is not False
            attributes["presence"] = self.motion
            self.event_attributes[KEY_MOTION] = attributes
            return KEY_MOTION
        attributes["pressure"] = event.pressure
        attributes["duration_ms"] = event.duration_ms
        self.occupancy = True
        self.event_attributes[KEY_OCCUPANCY] = attributes
        return KEY_OCCUPANCY

    def event_on(self, key: str) -> bool | None:
        """Whether the momentary state `key` (motion or occupancy) is on."""
        return self.motion if key == KEY_MOTION else self.occupancy

    def restore_event(self, key: str) -> None:
        """Take back a momentary state that was on before a restart."""
        if key == KEY_MOTION:
            self.motion = True
        else:
            self.occupancy = True

    def end_event(self, key: str) -> None:
        """Turn a momentary state off (its off delay passed)."""
        if key == KEY_MOTION:
            self.motion = False
        else:
            self.occupancy = False

    def diagnostics(self) -> dict[str, Any]:
        """State for the diagnostics download."""
        return {
            "model": self.model,
            "firmware": self.firmware,
            "values": dict(self.values),
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "device_time": self.device_time.isoformat() if self.device_time else None,
            "status": self.status,
            "online": self.online,
            "motion": self.motion,
            "occupancy": self.occupancy,
        }
