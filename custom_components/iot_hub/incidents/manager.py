"""One broker entry's incidents: the core engine wired to time, storage, events and MQTT."""

from collections.abc import Callable, Iterable
from datetime import datetime
import logging
import secrets
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, EVENT_INCIDENT, HUB_DEVICE
from ..core.incidents import (
    Change,
    Incident,
    IncidentEngine,
    OfflineRule,
    Phase,
    Rule,
    Severity,
)
from ..core.incidents.messages import (
    IncidentCommand,
    decode_alert_severity,
    encode_alert,
    encode_incident_status,
)
from ..identifiers import entity_unique_id
from .messages import UNITS, IncidentWording
from .rules import dump_rules, entry_rules, stored_rules
from .store import IncidentStore

_LOGGER = logging.getLogger(__name__)

KEY_INCIDENT = "incident"
# Notified on every change: the event entity fires once per change.
KEY_INCIDENT_EVENT = "incident_event"
# Hub-device key of the "Open incidents" sensor.
KEY_INCIDENTS = "incidents"
ALERT_PHASES = frozenset({Phase.OPENED, Phase.ESCALATED})

type Notify = Callable[[str, Iterable[str]], None]
type Publish = Callable[[str, bytes], None]
type DeviceLookup = Callable[[str], tuple[str | None, str]]


class IncidentManager:
    """Feeds the engine, keeps it on disk, and tells Home Assistant and the broker."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        notify: Notify,
        publish: Publish | None,
        device_lookup: DeviceLookup,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.engine = IncidentEngine((), (), id_factory=lambda: secrets.token_hex(5))
        self.store = IncidentStore(hass, entry.entry_id)
        self._notify = notify
        self._publish = publish
        self._device_lookup = device_lookup
        self._wording = IncidentWording({})
        self._timer: CALLBACK_TYPE | None = None
        self._deadline: datetime | None = None
        self._last: dict[str, Change] = {}
        self._rules: tuple[list[Rule], list[OfflineRule]] = ([], [])

    async def async_load(self) -> None:
        """Take back what was stored: nothing is announced again."""
        self._wording = await IncidentWording.async_load(self.hass)
        now = dt_util.utcnow()
        if (data := await self.store.async_load()) is not None:
            # The rules of the last run first: what the user changed since then
            # resolves (and is announced) below, through set_rules.
            old_rules, old_offline = stored_rules(data)
            self.engine.set_rules(old_rules, old_offline, now)
            self.engine.load(data.get("engine", {}), now)
            if self.engine.load_errors:
                _LOGGER.warning(
                    "Skipped %s unreadable stored incident(s) of %s",
                    self.engine.load_errors,
                    self.entry.title,
                )
        self._rules = entry_rules(self.entry)
        self._apply(self.engine.set_rules(*self._rules, now))
        self._schedule()

    async def async_stop(self) -> None:
        """Cancel the timer and write the incidents now."""
        if self._timer is not None:
            self._timer()
            self._timer = None
            self._deadline = None
        await self.store.async_save(self._dump())

    # ------------------------------------------------------------ inputs

    @callback
    def reading(self, device_id: str, values: dict[str, float], now: datetime) -> None:
        """Evaluate the rules on a device's new values, received at `now`."""
        self._apply(self.engine.reading(device_id, values, now))

    @callback
    def device_status(self, device_id: str, online: bool) -> None:
        """Follow a device going offline or coming back."""
        self._apply(self.engine.device_status(device_id, online, dt_util.utcnow()))

    @callback
    def alert(self, device_id: str, level: str | None, message: str | None) -> None:
        """Open (or raise) the device's external incident for an `iot/alerts/<device>` alert."""
        self._apply(
            self.engine.external(
                device_id,
                action="create",
                severity=decode_alert_severity(level),
                message=message,
                now=dt_util.utcnow(),
            )
        )

    @callback
    def command(self, command: IncidentCommand) -> None:
        """Apply a `create`/`update`/`resolve` from the DHT11 incidents topic."""
        now = dt_util.utcnow()
        changes = self.engine.external(
            command.device_id,
            action=command.action,
            severity=command.severity,
            message=command.message,
            source_id=command.source_id,
            metric=command.metric,
            value=command.value,
            now=now,
        )
        self._apply(changes, publish=False)

    @callback
    def acknowledge(self, incident_id: str, by: str, note: str | None) -> None:
        """Acknowledge an incident for a person (raises IncidentError)."""
        self._apply([self.engine.acknowledge(incident_id, by=by, note=note, now=dt_util.utcnow())])

    @callback
    def resolve(self, incident_id: str, by: str, note: str | None) -> None:
        """Resolve an incident for a person (raises IncidentError)."""
        self._apply([self.engine.resolve(incident_id, by=by, note=note, now=dt_util.utcnow())])

    @callback
    def forget_device(self, device_id: str) -> None:
        """Resolve (and announce) the incidents of a device the user deleted, then forget it."""
        self._apply(
            self.engine.resolve_device(
                device_id, by="Home Assistant", note="device deleted", now=dt_util.utcnow()
            )
        )
        self.engine.forget_device(device_id)
        self._last.pop(device_id, None)
        self._save()
        self._notify(HUB_DEVICE, (KEY_INCIDENTS,))

    # ------------------------------------------------------------ reading

    def for_device(self, device_id: str) -> list[Incident]:
        """Return a device's open (or acknowledged) incidents, most severe and newest first."""
        return sorted(
            self.engine.for_device(device_id),
            key=lambda incident: (incident.severity.rank, incident.opened_at),
            reverse=True,
        )

    def open_incidents(self) -> list[Incident]:
        """Return every open or acknowledged incident of the entry."""
        return self.engine.open_incidents()

    def last_change(self, device_id: str) -> Change | None:
        """Return the latest change of the device's incidents (its event entity fires it)."""
        return self._last.get(device_id)

    def highest_severity(self) -> Severity | None:
        """Return the highest severity among open incidents."""
        return max((i.severity for i in self.open_incidents()), default=None)

    # ------------------------------------------------------------ outputs

    @callback
    def _apply(self, changes: list[Change], *, publish: bool = True) -> None:
        if not changes:
            # A violation may have started (or ended) a countdown; the message path
            # pays nothing when nothing counts down.
            if self._deadline is not None or self.engine.has_timers():
                self._schedule()
            return
        self._save()
        for change in changes:
            device_id = change.incident.device_id
            self._last[device_id] = change
            self._fire(change)
            self._notify(device_id, (KEY_INCIDENT, KEY_INCIDENT_EVENT))
            if publish:
                self._send(change)
        self._notify(HUB_DEVICE, (KEY_INCIDENTS,))
        self._schedule()

    def _dump(self) -> dict[str, Any]:
        return {"engine": self.engine.dump(), **dump_rules(*self._rules)}

    def _save(self) -> None:
        # The moment it changes: a restart right after must not lose it (writes are
        # serialised by the store, each with the data of its moment).
        self.entry.async_create_task(
            self.hass, self.store.async_save(self._dump()), "iot_hub save incidents"
        )

    def _fire(self, change: Change) -> None:
        incident = change.incident
        registry_id, name = self._device_lookup(incident.device_id)
        entity_id = er.async_get(self.hass).async_get_entity_id(
            "binary_sensor",
            DOMAIN,
            entity_unique_id(self.entry.entry_id, incident.device_id, KEY_INCIDENT),
        )
        self.hass.bus.async_fire(
            EVENT_INCIDENT,
            {
                "incident_id": incident.id,
                "phase": change.phase.value,
                "status": incident.status.value,
                "severity": incident.severity.value,
                "previous_severity": change.previous_severity,
                "kind": incident.kind.value,
                "entry_id": self.entry.entry_id,
                "device_id": registry_id,
                "source_device_id": incident.device_id,
                "device_name": name,
                "entity_id": entity_id,
                "metric": incident.metric,
                "value": incident.value,
                "threshold": incident.threshold,
                "unit": UNITS.get(incident.metric or ""),
                "title": self._wording.title(change, name),
                "message": self._wording.message(change, name),
                "opened_at": incident.opened_at.isoformat(),
                "acknowledged_by": incident.acknowledged_by,
                "note": incident.note,
                "resolve_reason": incident.resolve_reason,
            },
            context=Context(),
        )

    def _send(self, change: Change) -> None:
        """Tell the users' own system, in its own format (never retained)."""
        if self._publish is None:
            return
        self._publish("incidents", encode_incident_status(change.incident))
        if change.phase in ALERT_PHASES:
            self._publish("alerts", encode_alert(change))

    @callback
    def _schedule(self) -> None:
        """Have `tick` called at the engine's next deadline (the timer moves only if it does)."""
        deadline = self.engine.next_deadline()
        if deadline == self._deadline:
            return
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._deadline = deadline
        if deadline is not None:
            self._timer = async_track_point_in_utc_time(self.hass, self._tick, deadline)

    @callback
    def _tick(self, now: datetime) -> None:
        self._timer = None
        self._deadline = None
        self._apply(self.engine.tick(now))

    def diagnostics(self) -> dict[str, Any]:
        """Open incidents and the bounded history."""
        return {
            "open": [incident.as_dict() for incident in self.open_incidents()],
            "history": [incident.as_dict() for incident in self.engine.history()],
            "load_errors": self.engine.load_errors,
        }
