"""The incident state machine: readings, device status and external reports in, changes out.

Pure and synchronous: time is always passed in (`now`), never read, so the
caller schedules `tick` at `next_deadline()`. Every method returns the
`Change`s it caused, each carrying a snapshot of the incident after it.
"""

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from .book import IncidentBook, set_severity, update_external
from .errors import IncidentAlreadyAcknowledged
from .models import (
    Change,
    Incident,
    IncidentKind,
    IncidentStatus,
    OfflineRule,
    Phase,
    ResolveReason,
    Rule,
    Severity,
)
from .rules import DEFAULT_RULES
from .state import (
    Offline,
    Pending,
    RuleIndex,
    assess,
    dump_state,
    is_number,
    load_state,
    make_room,
    settle,
    utc,
)

__all__ = ["MAX_TRACKED_DEVICES", "Action", "IncidentEngine"]

# Devices with pending violations or offline timers kept at most; beyond, the
# oldest entry goes (a flood of invented device ids must not grow memory).
MAX_TRACKED_DEVICES: Final = 10_000

type Action = Literal["create", "update", "resolve"]
_ACTIONS: Final = frozenset({"create", "update", "resolve"})


class IncidentEngine:
    """Open, escalate, de-escalate and resolve incidents from rules and reports.

    Threshold semantics, per (device, rule): a value outside the lowest
    configured bounds starts a pending violation, which opens an incident
    once it has lasted `min_duration` (on a reading or a `tick`); a value
    back in range before that drops it. While open, the severity follows the
    highest violated bounds at once upwards, and downwards only once the value
    is inside a severity's bounds by `hysteresis`; the incident resolves when
    inside the lowest bounds by `hysteresis`. Escalating an acknowledged
    incident re-opens it (status `open`), so that someone is alerted again.
    Resolving by hand while the condition persists re-arms it: a new incident
    opens after the full delay.
    """

    def __init__(
        self,
        rules: Iterable[Rule] = DEFAULT_RULES,
        offline_rules: Iterable[OfflineRule] = (),
        *,
        history_size: int = 200,
        history_age: timedelta = timedelta(days=30),
        id_factory: Callable[[], str] | None = None,
        max_devices: int = MAX_TRACKED_DEVICES,
    ) -> None:
        if history_size < 0 or max_devices < 1:
            raise ValueError("history_size must be >= 0 and max_devices >= 1")
        self._max_devices = max_devices
        self._index = RuleIndex(rules, offline_rules)
        self._book = IncidentBook(history_size, history_age, id_factory)
        # Device -> rule id -> violation not yet lasting min_duration.
        self._pending: dict[str, dict[str, Pending]] = {}
        self._offline: dict[str, Offline] = {}
        self.load_errors = 0

    # ------------------------------------------------------------ inputs

    def set_rules(
        self, rules: Iterable[Rule], offline_rules: Iterable[OfflineRule], now: datetime
    ) -> list[Change]:
        """Replace the rules; resolve incidents of rules gone (or no longer applying)."""
        now = utc(now)
        self._index = index = RuleIndex(rules, offline_rules)
        changes = [
            self._book.resolve(incident, ResolveReason.RULE_REMOVED, now)
            for incident in list(self._book.open.values())
            if not index.applies(incident)
        ]
        for device, pendings in list(self._pending.items()):
            for rule_id, pending in list(pendings.items()):
                # A changed rule starts over: its timer measured other bounds.
                rule = index.rules.get(rule_id)
                if rule != pending.rule or not index.applies_to(device, pending.rule):
                    self._drop_pending(device, rule_id)
        for offline in self._offline.values():
            offline.rearm = {k: v for k, v in offline.rearm.items() if k in index.offline}
        return self._done(changes, now)

    def reading(self, device_id: str, values: Mapping[str, float], now: datetime) -> list[Change]:
        """Evaluate the rules applying to each value a device reported."""
        now = utc(now)
        changes: list[Change] = []
        for metric, value in values.items():
            rules = self._index.for_metric(device_id, metric)
            if rules and is_number(value):
                for rule in rules:
                    self._evaluate(rule, device_id, float(value), now, changes)
        return self._done(changes, now)

    def tick(self, now: datetime) -> list[Change]:
        """Open what matured: pending violations (at their last value) and offline timers."""
        now = utc(now)
        changes: list[Change] = []
        for device, pendings in list(self._pending.items()):
            for rule_id, pending in list(pendings.items()):
                if pending.due(now):
                    self._drop_pending(device, rule_id)
                    changes.append(self._open_threshold(pending.rule, device, pending.value, now))
        for device in list(self._offline):
            self._check_offline(device, now, changes)
        self._book.prune(now)
        return changes

    def has_timers(self) -> bool:
        """Whether anything counts down (pending violations, offline devices): O(1)."""
        return bool(self._pending or self._offline)

    def next_deadline(self) -> datetime | None:
        """Return when `tick` next has something to open, if ever."""
        deadlines = [p.deadline for pendings in self._pending.values() for p in pendings.values()]
        for device, offline in self._offline.items():
            deadlines.extend(
                offline.deadline(rule)
                for rule in self._index.offline_for(device)
                if (device, rule.id) not in self._book.keys
            )
        return min(deadlines, default=None)

    def device_status(self, device_id: str, online: bool, now: datetime) -> list[Change]:
        """Start (offline) or stop (online: resolve its offline incidents) the offline timer."""
        now = utc(now)
        changes: list[Change] = []
        if online:
            self._offline.pop(device_id, None)
            for rule_id in self._index.offline:
                if (incident := self._book.keys.get((device_id, rule_id))) is not None:
                    changes.append(self._book.resolve(incident, ResolveReason.ONLINE, now))
        else:
            if device_id not in self._offline:
                make_room(self._offline, self._max_devices)
                self._offline[device_id] = Offline(now)
            self._check_offline(device_id, now, changes)
        return self._done(changes, now)

    def external(
        self,
        device_id: str,
        *,
        action: Action,
        severity: Severity | None = None,
        message: str | None = None,
        source_id: str | int | None = None,
        metric: str | None = None,
        value: float | None = None,
        now: datetime,
    ) -> list[Change]:
        """Apply an incident another system reported (MQTT `create`/`update`/`resolve`).

        `create` updates the matching open incident rather than duplicate it;
        without `source_id` it matches the device's newest open external
        incident and may only raise its severity (an alert never calms one).
        A `create` for a `source_id` already resolved is a replay: ignored.
        `update`/`resolve` of an unknown (or absent) `source_id` change nothing.
        """
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        now = utc(now)
        incident = self._book.find_external(device_id, source_id)
        change: Change | None = None
        if incident is None:
            if action == "create" and (
                source_id is None or not self._book.was_resolved(device_id, source_id)
            ):
                change = self._book.new(
                    device_id,
                    IncidentKind.EXTERNAL,
                    severity or Severity.WARNING,
                    now,
                    metric=metric,
                    value=value,
                    message=message,
                    source_id=source_id,
                )
        elif source_id is None and action != "create":
            pass  # Nothing names which incident to update or resolve.
        elif action == "resolve":
            change = self._book.resolve(incident, ResolveReason.SOURCE, now)
        else:
            floor = incident.severity if source_id is None else None
            change = update_external(
                incident,
                now,
                severity=severity,
                floor=floor,
                message=message,
                metric=metric,
                value=value,
            )
        return self._done([] if change is None else [change], now)

    # ---------------------------------------------------------- a person

    def acknowledge(
        self, incident_id: str, *, by: str, note: str | None = None, now: datetime
    ) -> Change:
        """Acknowledge an open incident; raise an `IncidentError` subclass otherwise."""
        now = utc(now)
        incident = self._book.require_open(incident_id)
        if incident.status is IncidentStatus.ACKNOWLEDGED:
            raise IncidentAlreadyAcknowledged(incident_id)
        incident.status = IncidentStatus.ACKNOWLEDGED
        incident.acknowledged_at = incident.updated_at = max(now, incident.updated_at)
        incident.acknowledged_by = by
        incident.note = incident.note if note is None else note
        return self._done([Change(Phase.ACKNOWLEDGED, incident.copy())], now)[0]

    def resolve(
        self, incident_id: str, *, by: str, note: str | None = None, now: datetime
    ) -> Change:
        """Resolve an incident by hand (reason `person`); raise an `IncidentError` if not open."""
        now = utc(now)
        incident = self._book.require_open(incident_id)
        change = self._book.resolve(incident, ResolveReason.PERSON, now, by=by, note=note)
        offline = self._offline.get(incident.device_id)
        if offline is not None and incident.kind is IncidentKind.OFFLINE and incident.rule_id:
            # Still offline: count the full delay again rather than re-open at once.
            offline.rearm[incident.rule_id] = now
        return self._done([change], now)[0]

    def acknowledge_device(
        self, device_id: str, *, by: str, note: str | None = None, now: datetime
    ) -> list[Change]:
        """Acknowledge every open (not yet acknowledged) incident of a device."""
        return [
            self.acknowledge(incident.id, by=by, note=note, now=now)
            for incident in list(self._book.open.values())
            if incident.device_id == device_id and incident.status is IncidentStatus.OPEN
        ]

    def resolve_device(
        self, device_id: str, *, by: str, note: str | None = None, now: datetime
    ) -> list[Change]:
        """Resolve every open or acknowledged incident of a device."""
        return [
            self.resolve(incident.id, by=by, note=note, now=now)
            for incident in list(self._book.open.values())
            if incident.device_id == device_id
        ]

    # ------------------------------------------------------------- views

    def open_incidents(self) -> list[Incident]:
        """Return copies of the open and acknowledged incidents, oldest first."""
        return [incident.copy() for incident in self._book.open.values()]

    def get(self, incident_id: str) -> Incident | None:
        """Return a copy of the incident with that id, open or in the history."""
        incident = self._book.open.get(incident_id) or self._book.find_history(incident_id)
        return None if incident is None else incident.copy()

    def for_device(self, device_id: str) -> list[Incident]:
        """Return copies of a device's open and acknowledged incidents."""
        return [i.copy() for i in self._book.open.values() if i.device_id == device_id]

    def history(self) -> list[Incident]:
        """Return copies of the resolved incidents, most recently resolved first."""
        return [incident.copy() for incident in reversed(self._book.history)]

    def forget_device(self, device_id: str) -> None:
        """Drop everything about a device (removed from Home Assistant), announcing nothing."""
        self._pending.pop(device_id, None)
        self._offline.pop(device_id, None)
        self._book.forget(device_id)

    def dump(self) -> dict[str, Any]:
        """Return the JSON-safe state: incidents, history, timers and the id sequence."""
        book = self._book
        return dump_state(book.seq, book.open, book.history, self._pending, self._offline)

    def load(self, data: Mapping[str, Any], now: datetime) -> None:
        """Replace the state with a `dump()`; count skipped bad entries in `load_errors`.

        Nothing is announced: open incidents simply continue. Open incidents
        of rules that no longer exist (or apply) move to the history silently,
        resolved with `rule_removed`.
        """
        now = utc(now)
        state = load_state(data, self._index, self._max_devices)
        self.load_errors = state.errors
        self._book.restore(state.seq, state.history)
        self._pending, self._offline = state.pending, state.offline
        for incident in state.open:
            self._book.add(incident)
            if not self._index.applies(incident):
                self._book.resolve(incident, ResolveReason.RULE_REMOVED, now)
        self._book.prune(now)

    # ---------------------------------------------------------- internals

    def _evaluate(
        self, rule: Rule, device: str, value: float, now: datetime, changes: list[Change]
    ) -> None:
        incident = self._book.keys.get((device, rule.id))
        if incident is not None:
            self._follow(incident, rule, value, now, changes)
            return
        low, high = self._index.ranges[rule.id]
        if low <= value <= high:
            # Nearly every reading: in range, nothing open (the same as assess() is None).
            if device in self._pending:
                self._drop_pending(device, rule.id)
            return
        if assess(rule, value) is None:
            # Back in range before min_duration: no incident, no flapping.
            self._drop_pending(device, rule.id)
            return
        pendings = self._pending.get(device)
        pending = None if pendings is None else pendings.get(rule.id)
        if pending is not None:
            pending.value = value
            if not pending.due(now):
                return
            self._drop_pending(device, rule.id)
        elif rule.min_duration > 0:
            if pendings is None:
                make_room(self._pending, self._max_devices)
                pendings = self._pending[device] = {}
            pendings[rule.id] = Pending(rule, now, value)
            return
        changes.append(self._open_threshold(rule, device, value, now))

    def _drop_pending(self, device: str, rule_id: str) -> None:
        pendings = self._pending.get(device)
        if pendings is not None and pendings.pop(rule_id, None) is not None and not pendings:
            del self._pending[device]

    def _open_threshold(self, rule: Rule, device: str, value: float, now: datetime) -> Change:
        hit = assess(rule, value)
        assert hit is not None
        return self._book.new(
            device,
            IncidentKind.THRESHOLD,
            hit.severity,
            now,
            rule_id=rule.id,
            metric=rule.metric,
            value=value,
            threshold=hit.threshold,
            direction=hit.direction,
        )

    def _follow(
        self, incident: Incident, rule: Rule, value: float, now: datetime, changes: list[Change]
    ) -> None:
        """Carry an open threshold incident along with a new value."""
        incident.value = value
        incident.updated_at = max(now, incident.updated_at)
        if rule.bounds[rule.base_severity].inside_by(value, rule.hysteresis):
            changes.append(self._book.resolve(incident, ResolveReason.BACK_IN_RANGE, now))
            return
        target, hit = settle(rule, incident.severity, value)
        if hit is not None:
            # The bound of the severity it is at, on the side the value left by.
            limit = rule.bounds[target].limit(hit.direction) if target in rule.bounds else None
            incident.direction = hit.direction
            incident.threshold = hit.threshold if limit is None else limit
        if (change := set_severity(incident, target, None)) is not None:
            changes.append(change)

    def _check_offline(self, device: str, now: datetime, changes: list[Change]) -> None:
        offline = self._offline[device]
        for rule in self._index.offline_for(device):
            if (device, rule.id) not in self._book.keys and offline.deadline(rule) <= now:
                changes.append(
                    self._book.new(
                        device, IncidentKind.OFFLINE, rule.severity, now, rule_id=rule.id
                    )
                )

    def _done(self, changes: list[Change], now: datetime) -> list[Change]:
        if changes:
            self._book.prune(now)
        return changes
