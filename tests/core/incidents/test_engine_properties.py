"""Invariants of IncidentEngine over random sequences of inputs (hypothesis)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
from typing import Any

from hypothesis import event, given, settings, strategies as st
import pytest

from custom_components.iot_hub.core.incidents import (
    Bounds,
    Change,
    Incident,
    IncidentEngine,
    IncidentKind,
    IncidentStatus,
    OfflineRule,
    Phase,
    Rule,
    Severity,
)

T0 = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)
W, C, E = Severity.WARNING, Severity.CRITICAL, Severity.EMERGENCY
RULES = (
    Rule(
        "temp", "temperature", None, {W: Bounds(5, 35), C: Bounds(0, 40), E: Bounds(-5, 45)}, 1, 60
    ),
    # Device "b" has its own rule (no delay, no upper bounds above warning).
    Rule("temp_b", "temperature", "b", {W: Bounds(10, 30), C: Bounds(min=2)}, 0.5, 0),
    Rule("hum", "humidity", None, {W: Bounds(20, 80)}, 2, 30),
)
OFFLINE = (OfflineRule("off", None, 90),)
DEVICES = ("a", "b")
BASE = {"temp": W, "temp_b": W, "hum": W}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """No MQTT client here."""


# Values near every bound and its hysteresis band, and a few far away.
_NEAR_BOUNDS = st.sampled_from(
    [-20, -6, -5, -4.5, -4, -1, 0, 0.5, 1, 3, 4.9, 5, 5.5, 6, 20, 34, 34.5, 35, 36, 40, 41, 46]
)
_VALUES = st.one_of(_NEAR_BOUNDS, _NEAR_BOUNDS, _NEAR_BOUNDS, st.floats(-30, 110))
_STEPS = st.sampled_from([0, 0, 0.5, 10, 30, 59.9, 60, 61, 120, -5, -60])
_DEVICE = st.sampled_from(DEVICES)
_READING = st.tuples(
    st.just("reading"), _DEVICE, st.sampled_from(["temperature"] * 3 + ["humidity"]), _VALUES
)
_OPS = st.one_of(
    # Readings drive most transitions: draw them most often.
    _READING,
    _READING,
    _READING,
    _READING,
    st.tuples(st.just("tick")),
    st.tuples(st.just("ack"), _DEVICE),
    st.tuples(st.just("resolve"), _DEVICE),
    st.tuples(st.just("status"), _DEVICE, st.booleans()),
    st.tuples(
        st.just("external"),
        _DEVICE,
        st.sampled_from(["create", "update", "resolve"]),
        st.sampled_from([None, 1, "1", 2]),
        st.sampled_from([None, *Severity]),
    ),
    st.tuples(st.just("reload")),
)


@dataclass
class Observer:
    """Follows the change stream and checks every change against the incident's past."""

    seen: dict[str, list[Change]] = field(default_factory=dict)
    open_ids: set[str] = field(default_factory=set)

    def check(self, changes: list[Change]) -> None:
        for change in changes:
            incident = change.incident
            event(f"{change.phase} {incident.kind}")  # --hypothesis-show-statistics
            past = self.seen.setdefault(incident.id, [])
            if not past:
                assert change.phase is Phase.OPENED, "an incident must open first"
                assert incident.status is IncidentStatus.OPEN
                self.open_ids.add(incident.id)
            else:
                assert change.phase is not Phase.OPENED
                assert past[-1].phase is not Phase.RESOLVED, "nothing after resolved"
                _monotonic(past[-1].incident, incident)
            _valid_phase(change)
            _ordered(incident)
            if change.phase is Phase.RESOLVED:
                self.open_ids.discard(incident.id)
            past.append(change)


def _valid_phase(change: Change) -> None:
    incident, previous = change.incident, change.previous_severity
    match change.phase:
        case Phase.ESCALATED:
            assert previous is not None
            assert previous < incident.severity
            assert incident.status is IncidentStatus.OPEN
        case Phase.DEESCALATED:
            assert previous is not None
            assert previous > incident.severity
            assert incident.is_open
        case Phase.ACKNOWLEDGED:
            assert incident.status is IncidentStatus.ACKNOWLEDGED
        case Phase.RESOLVED:
            assert incident.status is IncidentStatus.RESOLVED
            assert incident.resolve_reason is not None
        case Phase.UPDATED:
            assert incident.kind is IncidentKind.EXTERNAL
            assert incident.is_open
        case _:
            assert change.phase is Phase.OPENED
            assert previous is None


def _monotonic(before: Incident, after: Incident) -> None:
    assert after.opened_at == before.opened_at
    assert after.updated_at >= before.updated_at


def _ordered(incident: Incident) -> None:
    moments = [incident.opened_at, incident.acknowledged_at, incident.resolved_at]
    present = [moment for moment in moments if moment is not None]
    assert present == sorted(present)
    assert incident.updated_at >= present[-1]
    assert all(moment.tzinfo is UTC for moment in present)
    if incident.kind is IncidentKind.THRESHOLD and incident.is_open:
        assert incident.rule_id is not None
        assert incident.severity >= BASE[incident.rule_id]


def _apply(eng: IncidentEngine, op: tuple[Any, ...], now: datetime) -> list[Change]:
    match op:
        case ("reading", device, metric, value):
            return eng.reading(device, {metric: value}, now)
        case ("tick",):
            return eng.tick(now)
        case ("ack", device):
            return eng.acknowledge_device(device, by="prop", now=now)
        case ("resolve", device):
            return eng.resolve_device(device, by="prop", note="n", now=now)
        case ("status", device, online):
            return eng.device_status(device, online, now)
        case ("external", device, action, source_id, severity):
            return eng.external(
                device, action=action, severity=severity, source_id=source_id, now=now
            )
    raise AssertionError(op)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_OPS, _STEPS), min_size=10, max_size=60))
def test_invariants_hold_for_any_sequence(ops: list[tuple[tuple[Any, ...], float]]) -> None:
    eng = IncidentEngine(RULES, OFFLINE, history_size=20)
    observer = Observer()
    now = T0
    for op, step in ops:
        now += timedelta(seconds=step)
        if op == ("reload",):
            before = (eng.open_incidents(), eng.history(), eng.next_deadline())
            data = json.loads(json.dumps(eng.dump()))
            eng = IncidentEngine(RULES, OFFLINE, history_size=20)
            eng.load(data, now)
            assert eng.load_errors == 0
            assert (eng.open_incidents(), eng.history(), eng.next_deadline()) == before
            continue
        observer.check(_apply(eng, op, now))
        open_incidents = eng.open_incidents()
        # The engine's open set is exactly what the change stream says is open.
        assert {i.id for i in open_incidents} == observer.open_ids
        keys = [(i.device_id, i.rule_id) for i in open_incidents if i.rule_id is not None]
        assert len(keys) == len(set(keys)), "at most one open incident per (device, rule)"
        assert all(not i.is_open for i in eng.history())
        assert len(eng.history()) <= 20
        dump = eng.dump()
        assert len(dump["pending"]) <= len(DEVICES) * len(RULES)
        assert len(dump["offline"]) <= len(DEVICES)
        # A pending violation only for delayed rules, never beside an open incident.
        for pending in dump["pending"]:
            assert pending["rule_id"] in {"temp", "hum"}
            assert (pending["device_id"], pending["rule_id"]) not in keys
        assert (eng.next_deadline() is None) == (not dump["pending"] and not _offline_due(eng))


def _offline_due(eng: IncidentEngine) -> bool:
    """Whether some offline device has no offline incident yet (its timer runs)."""
    dump = eng.dump()
    opened = {i["device_id"] for i in dump["open"] if i["kind"] == "offline"}
    return any(entry["device_id"] not in opened for entry in dump["offline"])
