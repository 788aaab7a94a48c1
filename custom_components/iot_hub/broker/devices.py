"""The devices one broker entry knows: their state, entities, registry entries and fleet."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
import logging
import re
import time
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later

from ..const import (
    CONF_DEVICE_ID_PATTERN,
    DEFAULT_MAX_DEVICES,
    DOMAIN,
    HUB_DEVICE,
    ISSUE_DEVICE_LIMIT,
)
from ..core.local.device_state import (
    KEY_CONNECTIVITY,
    KEY_FIRMWARE,
    KEY_LAST_SEEN,
    MANUFACTURERS,
    DeviceState,
)
from ..core.local.dht11 import DHT11_DEVICE_ID
from ..core.local.models import Rejected, Rejection
from ..identifiers import device_id_of, device_identifier, split_unique_id
from ..incidents.manager import KEY_INCIDENT

# Keys every device gets on its first message (its incident entities too).
BASE_KEYS = frozenset({KEY_CONNECTIVITY, KEY_LAST_SEEN, KEY_INCIDENT})
# Distinct refused ids remembered for the repair issue's count (a flood must not grow
# memory): past this many, the count shows as "10000+".
MAX_REFUSED_REMEMBERED = 10_000
# The repair issue is updated at most this often while ids keep being refused.
ISSUE_UPDATE_SECONDS = 2.0

_LOGGER = logging.getLogger(__name__)


def device_limit_issue_id(entry_id: str) -> str:
    """Id of the repair issue "device bound reached" of an entry."""
    return f"{ISSUE_DEVICE_LIMIT}_{entry_id}"


class DeviceBook:
    """Device states and which entities exist for them, for one entry.

    New devices are admitted up to `max_devices` (and, with `pattern`, only ids that
    fully match it); devices already known always are. Reaching the bound raises a
    repair issue, deleted once there is room again.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        *,
        broker: str = "",
        max_devices: int = DEFAULT_MAX_DEVICES,
        pattern: re.Pattern[str] | None = None,
    ) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.broker = broker
        self.max_devices = max_devices
        self.pattern = pattern
        self.states: dict[str, DeviceState] = {}
        self.hub_device_id: str | None = None
        self._entity_keys: dict[str, set[str]] = defaultdict(set)
        # Ids refused because the bound is reached (distinct, up to MAX_REFUSED_REMEMBERED).
        self._refused: set[str] = set()
        self._issue_updated = 0.0
        self._issue_timer: CALLBACK_TYPE | None = None

    # ------------------------------------------------------------ admission

    @callback
    def admit(self, device_id: str, *, check_pattern: bool = True) -> Rejected | None:
        """Return why a message of `device_id` must be refused, or None to accept it.

        Known devices are always accepted. A new id must match the pattern (unless
        `check_pattern` is False: the DHT11 family's fixed id), and is refused once
        `max_devices` devices are known.
        """
        if device_id in self.states:
            return None
        if check_pattern and self.pattern is not None and self.pattern.fullmatch(device_id) is None:
            return Rejected(
                Rejection.DEVICE_ID_NOT_ALLOWED,
                f"device id {device_id!r} does not match the allowed device ids "
                f"({self.pattern.pattern})",
            )
        if len(self.states) >= self.max_devices:
            self._refuse(device_id)
            return Rejected(
                Rejection.DEVICE_LIMIT,
                f"new device {device_id!r} refused: the limit of {self.max_devices} "
                "devices is reached (see the repair issue)",
            )
        return None

    @property
    def refused_count(self) -> int:
        """Distinct new ids refused because the bound was reached (up to the cap)."""
        return len(self._refused)

    @callback
    def _refuse(self, device_id: str) -> None:
        if device_id in self._refused or len(self._refused) >= MAX_REFUSED_REMEMBERED:
            return
        self._refused.add(device_id)
        if self._issue_timer is not None:
            return  # an update is due already
        wait = ISSUE_UPDATE_SECONDS - (time.monotonic() - self._issue_updated)
        if wait <= 0:
            self._raise_issue()
        else:
            self._issue_timer = async_call_later(self.hass, wait, self._issue_timer_fired)

    @callback
    def _issue_timer_fired(self, _now: datetime) -> None:
        self._issue_timer = None
        if self._refused:
            self._raise_issue()

    @callback
    def _raise_issue(self) -> None:
        self._issue_updated = time.monotonic()
        count = len(self._refused)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            device_limit_issue_id(self.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DEVICE_LIMIT,
            translation_placeholders={
                "broker": self.broker,
                "count": str(count) if count < MAX_REFUSED_REMEMBERED else f"{count}+",
                "max_devices": str(self.max_devices),
            },
        )

    @callback
    def check_room(self) -> None:
        """Delete the repair issue once there is room for new devices again."""
        if len(self.states) >= self.max_devices:
            return
        self._refused.clear()
        self.cancel_issue_update()
        ir.async_delete_issue(self.hass, DOMAIN, device_limit_issue_id(self.entry_id))

    @callback
    def cancel_issue_update(self) -> None:
        """Cancel a pending update of the repair issue (the entry stops)."""
        if self._issue_timer is not None:
            self._issue_timer()
            self._issue_timer = None

    @callback
    def stop(self) -> None:
        """Stop: the entry is unloaded or removed, nothing is refused any more."""
        self.cancel_issue_update()
        ir.async_delete_issue(self.hass, DOMAIN, device_limit_issue_id(self.entry_id))

    def get(self, device_id: str) -> DeviceState | None:
        """State of a device, if known."""
        return self.states.get(device_id)

    def entity_keys(self, device_id: str) -> Collection[str]:
        """Keys of the device's existing entities."""
        return self._entity_keys.get(device_id, ())

    @callback
    def restore(self) -> None:
        """Know the devices seen before this start (from the device registry)."""
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(registry, self.entry_id):
            if (device_id := device_id_of(self.entry_id, device.identifiers)) is not None:
                self.states.setdefault(device_id, DeviceState(device_id))

    def restored_entities(self, domain: str, keys: Iterable[str]) -> list[tuple[str, str]]:
        """(device_id, key) of this entry's registered entities of `domain`; marks them known."""
        keys = tuple(keys)
        found = []
        registry = er.async_get(self.hass)
        for entry in er.async_entries_for_config_entry(registry, self.entry_id):
            if entry.domain != domain:
                continue
            split = split_unique_id(self.entry_id, entry.unique_id, keys)
            if split is not None and split[0] != HUB_DEVICE:
                self._entity_keys[split[0]].add(split[1])
                found.append(split)
        return found

    @callback
    def seen(self, device_id: str, now: datetime) -> tuple[DeviceState, set[str], bool]:
        """Record a message of the device: its state, the keys that changed, whether new."""
        state = self.states.get(device_id)
        new = state is None
        if state is None:
            state = self.states[device_id] = DeviceState(device_id)
        return state, state.seen(now), new

    def new_keys(self, state: DeviceState, keys: Collection[str]) -> frozenset[str]:
        """Keys of the device that have no entity yet (recorded as existing from now on)."""
        known = self._entity_keys[state.device_id]
        firmware = state.firmware is not None
        # Nearly every message: nothing new (checked without building sets).
        if (
            known.issuperset(keys)
            and known.issuperset(BASE_KEYS)
            and (not firmware or KEY_FIRMWARE in known)
        ):
            return frozenset()
        new = (BASE_KEYS | set(keys) | ({KEY_FIRMWARE} if firmware else set())) - known
        known.update(new)
        return frozenset(new)

    def has_entities(self, device_id: str) -> bool:
        """Whether any entity exists for the device."""
        return bool(self._entity_keys.get(device_id))

    @callback
    def forget(self, device_id: str) -> None:
        """Drop a device the user deleted; it comes back if it publishes again."""
        self.states.pop(device_id, None)
        self._entity_keys.pop(device_id, None)
        self.check_room()

    def device_info(self, device_id: str) -> DeviceInfo:
        """Registry information of a device seen on the broker."""
        info = DeviceInfo(
            identifiers={device_identifier(self.entry_id, device_id)},
            name="DHT11" if device_id == DHT11_DEVICE_ID else device_id,
        )
        if (state := self.states.get(device_id)) is not None:
            if state.model is not None:
                info["model"] = str(state.model)
                if (manufacturer := MANUFACTURERS.get(state.model)) is not None:
                    info["manufacturer"] = manufacturer
            if state.firmware is not None:
                info["sw_version"] = str(state.firmware)
        if self.hub_device_id is not None:
            info["via_device_id"] = self.hub_device_id
        return info

    @callback
    def sync_registry(self, device_id: str) -> None:
        """Push a newly learned model/firmware to an existing registry device."""
        registry = dr.async_get(self.hass)
        entry = registry.async_get_device_by_identifier(
            device_identifier(self.entry_id, device_id), self.entry_id
        )
        state = self.states.get(device_id)
        if entry is None or state is None:
            return
        registry.async_update_device(
            entry.id,
            model=str(state.model) if state.model is not None else None,
            manufacturer=MANUFACTURERS.get(state.model) if state.model else None,
            sw_version=state.firmware,
        )

    def fleet(self) -> dict[str, int]:
        """Devices known, online and offline."""
        online = sum(1 for state in self.states.values() if state.online is True)
        offline = sum(1 for state in self.states.values() if state.online is False)
        return {"total": len(self.states), "online": online, "offline": offline}

    def silent_since(self, limit: datetime, started: datetime) -> list[DeviceState]:
        """Mark devices heard of last before `limit` silent; return those that just went."""
        went = []
        for state in self.states.values():
            if state.silent or (state.last_seen or started) > limit:
                continue
            state.silent = True
            went.append(state)
        return went

    def registry_name(self, device_id: str) -> tuple[str | None, str]:
        """Return the device's registry id (if registered) and the name the user sees."""
        device = dr.async_get(self.hass).async_get_device(
            identifiers={device_identifier(self.entry_id, device_id)}
        )
        if device is None:
            return None, self.device_info(device_id).get("name") or device_id
        return device.id, device.name_by_user or device.name or device_id

    def diagnostics(self) -> dict[str, Any]:
        """Every device's state."""
        return {device_id: state.diagnostics() for device_id, state in self.states.items()}


def device_id_pattern(options: Any) -> re.Pattern[str] | None:
    """Compile the "allowed device ids" option (None when unset or, never expected, invalid)."""
    text = options.get(CONF_DEVICE_ID_PATTERN)
    if not text:
        return None
    try:
        return re.compile(str(text))
    except re.error as err:
        _LOGGER.error("Ignoring the invalid allowed device ids pattern %r: %s", text, err)
        return None
