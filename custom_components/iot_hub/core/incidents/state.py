"""The engine's bookkeeping: rule lookup, pending timers, and their stored form."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import math
from typing import Any, Final, NamedTuple

from .errors import RuleError
from .models import (
    Direction,
    Incident,
    IncidentKind,
    OfflineRule,
    Rule,
    Severity,
    parse_moment,
)

# Stored format; bump when the layout changes incompatibly.
STATE_VERSION: Final = 1
# Ids longer than this are not from our sequence (and int() of them is slow).
_MAX_SEQ_DIGITS: Final = 18


class Hit(NamedTuple):
    """The highest severity whose bounds a value violates, and how."""

    severity: Severity
    direction: Direction
    threshold: float | None


def assess(rule: Rule, value: float) -> Hit | None:
    """Return the highest violated severity of `rule` for `value`, or None when in range."""
    hit = None
    # Higher severities have wider bounds: the violated ones are a prefix.
    for severity, bounds in rule.bounds.items():
        direction = bounds.violation(value)
        if direction is None:
            break
        hit = Hit(severity, direction, bounds.limit(direction))
    return hit


def settle(rule: Rule, current: Severity, value: float) -> tuple[Severity, Hit | None]:
    """Return the severity an open incident at `current` moves to for `value`, and its hit.

    Up at once to the highest violated severity; down only past the
    severities whose bounds the value is back inside of by the hysteresis;
    never below the rule's lowest severity.
    """
    base = held = rule.base_severity
    for severity, bounds in rule.bounds.items():
        if bounds.inside_by(value, rule.hysteresis):
            break
        held = severity
    target = max(base, min(current, held))
    hit = assess(rule, value)
    return (target if hit is None else max(target, hit.severity)), hit


def utc(now: datetime) -> datetime:
    """Return `now` in UTC; refuse a naive datetime (its zone would be a guess)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now if now.tzinfo is UTC else now.astimezone(UTC)


def is_number(value: object) -> bool:
    """Whether `value` is a finite measurement (bool is an int, but no measurement)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def make_room(tracked: dict[str, Any], limit: int) -> None:
    """Drop the oldest entries until one more fits within `limit`."""
    while len(tracked) >= limit:
        del tracked[next(iter(tracked))]


@dataclass(slots=True)
class Pending:
    """A violation not yet lasting `min_duration`; `value` is the last one seen."""

    rule: Rule
    since: datetime
    value: float

    @property
    def deadline(self) -> datetime:
        """When the violation becomes an incident if it lasts."""
        return self.since + timedelta(seconds=self.rule.min_duration)

    def due(self, now: datetime) -> bool:
        """Whether the violation has lasted long enough at `now`."""
        return now >= self.deadline


@dataclass(slots=True)
class Offline:
    """A device offline since `since`; `rearm` restarts a rule's delay (resolved by hand)."""

    since: datetime
    rearm: dict[str, datetime] = field(default_factory=dict)

    def deadline(self, rule: OfflineRule) -> datetime:
        """When `rule` opens an incident if the device stays offline."""
        return self.rearm.get(rule.id, self.since) + timedelta(seconds=rule.after)


class RuleIndex:
    """Enabled rules by id, and which apply to a (device, metric).

    A device-specific rule for a metric replaces the all-devices rules of that
    metric for that device (same for offline rules).
    """

    def __init__(self, rules: Iterable[Rule], offline_rules: Iterable[OfflineRule]) -> None:
        rules, offline_rules = tuple(rules), tuple(offline_rules)
        ids = [rule.id for rule in rules] + [rule.id for rule in offline_rules]
        if len(set(ids)) != len(ids):
            # Incidents are keyed by (device, rule id): ids must not collide.
            raise RuleError("duplicate_id", "two rules share an id")
        self.rules = {rule.id: rule for rule in rules if rule.enabled}
        self.offline = {rule.id: rule for rule in offline_rules}
        # The lowest severity's range per rule, as plain floats: the message path's
        # in-range check (nearly every reading) is two comparisons.
        self.ranges: dict[str, tuple[float, float]] = {}
        for rule in self.rules.values():
            lowest = next(iter(rule.bounds.values()))
            self.ranges[rule.id] = (
                -math.inf if lowest.min is None else lowest.min,
                math.inf if lowest.max is None else lowest.max,
            )
        self._generic: dict[str, tuple[Rule, ...]] = {}
        self._specific: dict[str, dict[str, tuple[Rule, ...]]] = {}
        for rule in self.rules.values():
            table = (
                self._generic
                if rule.device_id is None
                else self._specific.setdefault(rule.device_id, {})
            )
            table[rule.metric] = (*table.get(rule.metric, ()), rule)
        self._offline_generic = tuple(r for r in offline_rules if r.device_id is None)
        self._offline_specific: dict[str, tuple[OfflineRule, ...]] = {}
        for offline in offline_rules:
            if offline.device_id is not None:
                known = self._offline_specific.get(offline.device_id, ())
                self._offline_specific[offline.device_id] = (*known, offline)

    def for_metric(self, device_id: str, metric: str) -> tuple[Rule, ...]:
        """Return the rules evaluating `metric` of `device_id`."""
        specific = self._specific.get(device_id)
        if specific is not None and (rules := specific.get(metric)) is not None:
            return rules
        return self._generic.get(metric, ())

    def offline_for(self, device_id: str) -> tuple[OfflineRule, ...]:
        """Return the offline rules watching `device_id`."""
        return self._offline_specific.get(device_id, self._offline_generic)

    def applies_to(self, device_id: str, rule: Rule) -> bool:
        """Whether `rule` (as configured now) evaluates `device_id`."""
        return rule in self.for_metric(device_id, rule.metric)

    def applies(self, incident: Incident) -> bool:
        """Whether the rule that opened `incident` still exists and applies to its device."""
        if incident.kind is IncidentKind.THRESHOLD:
            rule = self.rules.get(incident.rule_id or "")
            return (
                rule is not None
                and rule.metric == incident.metric
                and self.applies_to(incident.device_id, rule)
            )
        if incident.kind is IncidentKind.OFFLINE:
            offline = self.offline.get(incident.rule_id or "")
            return offline is not None and offline in self.offline_for(incident.device_id)
        return True


def dump_state(
    seq: int,
    open_incidents: Mapping[str, Incident],
    history: Iterable[Incident],
    pending: Mapping[str, Mapping[str, Pending]],
    offline: Mapping[str, Offline],
) -> dict[str, Any]:
    """Return the JSON-safe stored form of the engine's state."""
    return {
        "version": STATE_VERSION,
        "seq": seq,
        "open": [incident.as_dict() for incident in open_incidents.values()],
        "history": [incident.as_dict() for incident in history],
        "pending": [
            {
                "device_id": device,
                "rule_id": rule_id,
                "since": entry.since.isoformat(),
                "value": entry.value,
            }
            for device, entries in pending.items()
            for rule_id, entry in entries.items()
        ],
        "offline": [
            {
                "device_id": device,
                "since": entry.since.isoformat(),
                "rearm": {rule_id: moment.isoformat() for rule_id, moment in entry.rearm.items()},
            }
            for device, entry in offline.items()
        ],
    }


@dataclass(slots=True)
class LoadedState:
    """What `load_state` could read back, and how many entries it skipped."""

    seq: int = 0
    open: list[Incident] = field(default_factory=list)
    history: list[Incident] = field(default_factory=list)
    pending: dict[str, dict[str, Pending]] = field(default_factory=dict)
    offline: dict[str, Offline] = field(default_factory=dict)
    errors: int = 0


def load_state(data: object, index: RuleIndex, max_devices: int) -> LoadedState:
    """Read a `dump_state` result back, skipping (and counting) what is malformed.

    Pending timers of rules no longer configured are dropped silently: they
    are stale, not corrupt.
    """
    state = LoadedState()
    if not isinstance(data, Mapping):
        state.errors += 1
        return state
    seq = data.get("seq", 0)
    if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0:
        state.seq = seq
    else:
        state.errors += 1
    ids: set[str] = set()
    keys: set[tuple[str, str]] = set()
    for name, target in (("open", state.open), ("history", state.history)):
        for entry in _entries(data, name, state):
            try:
                incident = Incident.from_dict(entry)
            except ValueError, TypeError:
                state.errors += 1
                continue
            key = None if incident.rule_id is None else (incident.device_id, incident.rule_id)
            if (
                incident.id in ids
                or incident.is_open != (name == "open")
                or (incident.is_open and key in keys)
            ):
                state.errors += 1
                continue
            ids.add(incident.id)
            if incident.is_open and key is not None:
                keys.add(key)
            target.append(incident)
    for entry in _entries(data, "pending", state):
        if (parsed := _pending(entry)) is None:
            state.errors += 1
            continue
        device, rule_id, since, value = parsed
        rule = index.rules.get(rule_id)
        if rule is None or not index.applies_to(device, rule) or (device, rule_id) in keys:
            continue
        if device in state.pending or len(state.pending) < max_devices:
            state.pending.setdefault(device, {})[rule_id] = Pending(rule, since, value)
    for entry in _entries(data, "offline", state):
        if (offline := _offline(entry, index)) is None:
            state.errors += 1
        elif len(state.offline) < max_devices:
            state.offline[offline[0]] = offline[1]
    numeric = [int(i) for i in ids if i.isdecimal() and len(i) <= _MAX_SEQ_DIGITS]
    state.seq = max([state.seq, *numeric])
    return state


def _entries(data: Mapping[str, Any], key: str, state: LoadedState) -> list[Any]:
    value = data.get(key, [])
    if isinstance(value, list):
        return value
    state.errors += 1
    return []


def _pending(entry: object) -> tuple[str, str, datetime, float] | None:
    if not isinstance(entry, Mapping):
        return None
    device, rule_id, value = entry.get("device_id"), entry.get("rule_id"), entry.get("value")
    if not (isinstance(device, str) and device and isinstance(rule_id, str) and rule_id):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return device, rule_id, parse_moment(entry.get("since")), float(value)
    except ValueError:
        return None


def _offline(entry: object, index: RuleIndex) -> tuple[str, Offline] | None:
    if not isinstance(entry, Mapping):
        return None
    device, rearm = entry.get("device_id"), entry.get("rearm", {})
    if not isinstance(device, str) or not device or not isinstance(rearm, Mapping):
        return None
    try:
        offline = Offline(parse_moment(entry.get("since")))
        for rule_id, moment in rearm.items():
            if rule_id in index.offline:
                offline.rearm[rule_id] = parse_moment(moment)
    except ValueError:
        return None
    return device, offline
