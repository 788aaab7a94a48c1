"""IncidentEngine: thresholds, durations, hysteresis, severities, offline, external, persistence."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.iot_hub.core.incidents import (
    DEFAULT_RULES,
    Bounds,
    IncidentEngine,
    IncidentStatus,
    OfflineRule,
    Phase,
    ResolveReason,
    Rule,
    RuleError,
    Severity,
)

T0 = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)
W, C, E = Severity.WARNING, Severity.CRITICAL, Severity.EMERGENCY


# Plain unit tests: replace the Home Assistant fixtures tests/conftest.py makes autouse.
@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """No MQTT client here."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def temp_rule(min_duration: float = 60.0, **overrides: object) -> Rule:
    """Warning 5..35, critical 0..40, emergency -5..45, hysteresis 1."""
    fields: dict[str, object] = {
        "id": "temp",
        "metric": "temperature",
        "device_id": None,
        "bounds": {W: Bounds(5, 35), C: Bounds(0, 40), E: Bounds(-5, 45)},
        "hysteresis": 1.0,
        "min_duration": min_duration,
    }
    fields |= overrides
    return Rule(**fields)  # type: ignore[arg-type]


def phases(changes: list) -> list[Phase]:
    return [change.phase for change in changes]


def only(changes: list) -> object:
    assert len(changes) == 1, changes
    return changes[0]


def engine(*rules: Rule, **kwargs: object) -> IncidentEngine:
    return IncidentEngine(rules or (temp_rule(),), **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------- min_duration


def test_defaults_follow_seed_000() -> None:
    eng = IncidentEngine()
    assert eng.reading("dht11", {"temperature": 20.0, "humidity": 50.0}, T0) == []
    assert eng.reading("dht11", {"temperature": 36.0, "humidity": 85.0}, T0) == []
    changes = eng.tick(at(60))
    assert sorted(c.incident.rule_id for c in changes) == [r.id for r in reversed(DEFAULT_RULES)]
    assert all(c.incident.direction == "high" for c in changes)


def test_min_duration_opens_on_a_later_reading() -> None:
    eng = engine()
    assert eng.reading("d1", {"temperature": 3.0}, at(0)) == []
    assert eng.next_deadline() == at(60)
    assert eng.reading("d1", {"temperature": 2.0}, at(30)) == []
    assert eng.open_incidents() == []
    change = only(eng.reading("d1", {"temperature": 4.0}, at(60)))
    assert change.phase is Phase.OPENED
    incident = change.incident
    assert (incident.severity, incident.value, incident.threshold) == (W, 4.0, 5.0)
    assert (incident.direction, incident.kind, incident.status) == ("low", "threshold", "open")
    assert incident.opened_at == incident.updated_at == at(60)
    assert eng.next_deadline() is None


def test_min_duration_opens_on_tick_with_the_last_value() -> None:
    eng = engine()
    eng.reading("d1", {"temperature": 3.0}, at(0))
    eng.reading("d1", {"temperature": -1.0}, at(20))
    assert eng.tick(at(59.9)) == []
    change = only(eng.tick(at(60)))
    assert (change.incident.value, change.incident.severity) == (-1.0, C)
    assert change.incident.threshold == 0.0
    assert eng.tick(at(61)) == []
    assert eng.next_deadline() is None


def test_zero_min_duration_opens_at_once() -> None:
    eng = engine(temp_rule(0))
    assert phases(eng.reading("d1", {"temperature": 36.0}, T0)) == [Phase.OPENED]
    assert eng.next_deadline() is None


def test_dip_shorter_than_min_duration_is_no_incident() -> None:
    eng = engine()
    eng.reading("d1", {"temperature": 3.0}, at(0))
    assert eng.reading("d1", {"temperature": 5.0}, at(30)) == []  # bounds included
    assert eng.next_deadline() is None
    assert eng.tick(at(120)) == []
    # A new dip starts its own timer.
    eng.reading("d1", {"temperature": 3.0}, at(200))
    assert eng.next_deadline() == at(260)


def test_resolved_then_bad_again_waits_min_duration_again() -> None:
    eng = engine()
    eng.reading("d1", {"temperature": 3.0}, at(0))
    first = only(eng.tick(at(60))).incident
    assert only(eng.reading("d1", {"temperature": 20.0}, at(70))).phase is Phase.RESOLVED
    assert eng.reading("d1", {"temperature": 3.0}, at(80)) == []
    assert eng.tick(at(139)) == []
    second = only(eng.tick(at(140))).incident
    assert second.id != first.id


# --------------------------------------------------------------------- hysteresis


@pytest.mark.parametrize(
    ("bad", "band", "back"),
    [(3.0, 5.5, 6.0), (37.0, 34.5, 34.0)],
)
def test_hysteresis_band_keeps_the_incident_open(bad: float, band: float, back: float) -> None:
    eng = engine(temp_rule(0))
    incident = only(eng.reading("d1", {"temperature": bad}, at(0))).incident
    assert eng.reading("d1", {"temperature": band}, at(10)) == []
    kept = eng.get(incident.id)
    assert kept is not None
    assert (kept.status, kept.value, kept.updated_at) == ("open", band, at(10))
    assert kept.threshold == incident.threshold  # the last violated bound stays
    change = only(eng.reading("d1", {"temperature": back}, at(20)))
    assert change.phase is Phase.RESOLVED
    assert change.incident.resolve_reason is ResolveReason.BACK_IN_RANGE
    assert change.incident.resolved_at == at(20)
    assert eng.open_incidents() == []


def test_escalation_and_deescalation_follow_hysteresis() -> None:
    eng = engine(temp_rule(0))

    def feed(value: float, seconds: float) -> list:
        return eng.reading("d1", {"temperature": value}, at(seconds))

    assert phases(feed(3, 0)) == [Phase.OPENED]
    change = only(feed(-1, 1))
    assert (change.phase, change.previous_severity, change.incident.severity) == (
        Phase.ESCALATED,
        W,
        C,
    )
    assert change.incident.threshold == 0.0
    assert only(feed(-6, 2)).incident.severity is E
    assert feed(-4.5, 3) == []  # inside emergency bounds, but not by the hysteresis
    change = only(feed(-4, 4))
    assert (change.phase, change.previous_severity, change.incident.severity) == (
        Phase.DEESCALATED,
        E,
        C,
    )
    assert feed(0.5, 5) == []  # critical held within its band
    current = eng.open_incidents()[0]
    assert (current.severity, current.threshold) == (C, 0.0)
    assert only(feed(1, 6)).incident.severity is W
    assert only(feed(50, 7)).incident.severity is E  # straight to the top, other side
    change = only(feed(34.5, 8))
    assert (change.phase, change.incident.severity, change.incident.direction) == (
        Phase.DEESCALATED,
        W,
        "high",
    )
    assert phases(feed(34, 9)) == [Phase.RESOLVED]


def test_incident_never_drops_below_its_lowest_severity() -> None:
    rule = Rule("co", "temperature", None, {C: Bounds(None, 30), E: Bounds(None, 40)}, 1.0, 0)
    eng = engine(rule)
    assert only(eng.reading("d", {"temperature": 45}, T0)).incident.severity is E
    assert only(eng.reading("d", {"temperature": 29.5}, at(1))).incident.severity is C
    assert phases(eng.reading("d", {"temperature": 29}, at(2))) == [Phase.RESOLVED]


def test_escalating_an_acknowledged_incident_reopens_it() -> None:
    eng = engine(temp_rule(0))
    incident = only(eng.reading("d1", {"temperature": -1}, at(0))).incident
    ack = eng.acknowledge(incident.id, by="ana", note="on it", now=at(5))
    assert (ack.phase, ack.incident.status, ack.incident.acknowledged_by) == (
        Phase.ACKNOWLEDGED,
        IncidentStatus.ACKNOWLEDGED,
        "ana",
    )
    assert ack.incident.acknowledged_at == at(5)
    # De-escalation keeps the acknowledgement.
    change = only(eng.reading("d1", {"temperature": 3}, at(6)))
    assert (change.phase, change.incident.status) == (Phase.DEESCALATED, "acknowledged")
    change = only(eng.reading("d1", {"temperature": -7}, at(7)))
    assert (change.phase, change.incident.status) == (Phase.ESCALATED, "open")
    assert change.incident.acknowledged_at is None
    assert change.incident.note == "on it"
    assert only(eng.acknowledge_device("d1", by="bob", now=at(8))).incident.acknowledged_by == "bob"


# ------------------------------------------------------------------- rule choice


def test_device_rule_replaces_the_all_devices_rule_of_its_metric() -> None:
    cellar = Rule("cellar", "temperature", "cellar", {W: Bounds(0, 15)}, 0.5, 0)
    humidity = Rule("hum", "humidity", None, {W: Bounds(20, 80)}, 2, 0)
    eng = engine(temp_rule(0), cellar, humidity)
    assert eng.reading("cellar", {"temperature": 3.0}, T0) == []
    assert only(eng.reading("cellar", {"temperature": 16.0}, T0)).incident.rule_id == "cellar"
    assert only(eng.reading("cellar", {"humidity": 90.0}, T0)).incident.rule_id == "hum"
    assert only(eng.reading("attic", {"temperature": 3.0}, T0)).incident.rule_id == "temp"
    assert {i.rule_id for i in eng.for_device("cellar")} == {"cellar", "hum"}


def test_unknown_metrics_and_non_finite_values_are_ignored() -> None:
    eng = engine(temp_rule(0))
    values = {"pressure": 1.0, "temperature": float("nan")}
    assert eng.reading("d1", values, T0) == []
    assert eng.reading("d1", {"temperature": float("inf")}, T0) == []
    assert eng.reading("d1", {"temperature": True}, T0) == []  # type: ignore[dict-item]
    assert eng.open_incidents() == []


def test_set_rules_resolves_removed_rules_and_drops_changed_pending() -> None:
    hum = Rule("hum", "humidity", None, {W: Bounds(20, 80)}, 2, 60)
    eng = engine(temp_rule(0), hum, temp_rule(0, id="temp2"))
    eng.reading("d1", {"temperature": 40.0, "humidity": 90.0}, T0)
    assert [i.rule_id for i in eng.open_incidents()] == ["temp", "temp2"]
    assert eng.next_deadline() == at(60)
    # temp removed, temp2 kept unchanged, hum changed: its pending timer restarts.
    hum2 = Rule("hum", "humidity", None, {W: Bounds(20, 85)}, 2, 60)
    changes = eng.set_rules([temp_rule(0, id="temp2"), hum2], [], at(10))
    change = only(changes)
    assert (change.phase, change.incident.rule_id) == (Phase.RESOLVED, "temp")
    assert change.incident.resolve_reason is ResolveReason.RULE_REMOVED
    assert eng.next_deadline() is None
    assert [i.rule_id for i in eng.open_incidents()] == ["temp2"]
    # An unchanged rule keeps its pending timer.
    eng.reading("d2", {"humidity": 90.0}, at(20))
    assert eng.set_rules([temp_rule(0, id="temp2"), hum2], [], at(30)) == []
    assert eng.next_deadline() == at(80)


def test_set_rules_device_rule_takes_over_and_disabled_rules_count_as_removed() -> None:
    eng = engine(temp_rule(0))
    eng.reading("d1", {"temperature": 40.0}, T0)
    device_rule = temp_rule(0, id="d1_temp", device_id="d1")
    change = only(eng.set_rules([temp_rule(0), device_rule], [], at(1)))
    assert (change.incident.rule_id, change.incident.resolve_reason) == ("temp", "rule_removed")
    eng.reading("d1", {"temperature": 40.0}, at(2))
    disabled = temp_rule(0, id="d1_temp", device_id="d1", enabled=False)
    change = only(eng.set_rules([temp_rule(0), disabled], [], at(3)))
    assert change.incident.rule_id == "d1_temp"


def test_set_rules_refuses_duplicate_ids_and_keeps_the_old_rules() -> None:
    eng = engine(temp_rule(0))
    with pytest.raises(RuleError) as err:
        eng.set_rules([temp_rule(0)], [OfflineRule("temp", None, 10)], T0)
    assert err.value.key == "duplicate_id"
    assert phases(eng.reading("d1", {"temperature": 40.0}, T0)) == [Phase.OPENED]


# ------------------------------------------------------------------------ offline


def test_offline_rule_opens_after_the_delay_and_resolves_online() -> None:
    eng = IncidentEngine((), [OfflineRule("off", None, 300, Severity.CRITICAL)])
    assert eng.device_status("d1", False, at(0)) == []
    assert eng.next_deadline() == at(300)
    assert eng.device_status("d1", False, at(100)) == []  # still counting from 0
    assert eng.tick(at(299)) == []
    change = only(eng.tick(at(300)))
    incident = change.incident
    assert (incident.kind, incident.severity, incident.rule_id) == ("offline", C, "off")
    assert incident.value is None
    assert eng.next_deadline() is None
    assert eng.device_status("d1", False, at(400)) == []
    assert eng.tick(at(500)) == []
    change = only(eng.device_status("d1", True, at(600)))
    assert (change.phase, change.incident.resolve_reason) == (Phase.RESOLVED, "online")
    assert eng.device_status("d1", True, at(700)) == []


def test_offline_rule_zero_delay_and_device_override() -> None:
    rules = [OfflineRule("all", None, 0), OfflineRule("slow", "sleepy", 3600)]
    eng = IncidentEngine((), rules)
    assert only(eng.device_status("d1", False, T0)).incident.rule_id == "all"
    assert eng.device_status("sleepy", False, T0) == []
    assert eng.next_deadline() == at(3600)
    assert only(eng.tick(at(3600))).incident.rule_id == "slow"


def test_offline_incident_resolved_by_hand_rearms() -> None:
    eng = IncidentEngine((), [OfflineRule("off", None, 300)])
    eng.device_status("d1", False, at(0))
    incident = only(eng.tick(at(300))).incident
    eng.resolve(incident.id, by="ana", now=at(400))
    assert eng.tick(at(401)) == []
    assert eng.next_deadline() == at(700)
    assert only(eng.tick(at(700))).incident.id != incident.id
    # Removing the rule resolves its incident and forgets its re-arm time.
    eng.resolve(eng.open_incidents()[0].id, by="ana", now=at(800))
    assert eng.set_rules((), [OfflineRule("other", None, 50)], at(900)) == []
    assert eng.next_deadline() == at(50)
    assert only(eng.tick(at(901))).incident.rule_id == "other"
    assert only(eng.set_rules((), [], at(902))).incident.resolve_reason == "rule_removed"


# ----------------------------------------------------------------------- external


def test_external_create_update_resolve() -> None:
    eng = engine()
    change = only(
        eng.external(
            "dht11",
            action="create",
            source_id=7,
            message="Temp basse",
            metric="temperature",
            value=3.0,
            now=at(0),
        )
    )
    incident = change.incident
    assert (incident.kind, incident.severity, incident.source_id) == ("external", W, 7)
    assert (incident.message, incident.metric, incident.value) == ("Temp basse", "temperature", 3.0)
    # The same create again (QoS 1 redelivery): no duplicate, nothing new.
    assert (
        eng.external("dht11", action="create", source_id=7, message="Temp basse", now=at(1)) == []
    )
    # "7" and 7 are the same Django incident.
    change = only(eng.external("dht11", action="update", source_id="7", severity=C, now=at(2)))
    assert (change.phase, change.previous_severity) == (Phase.ESCALATED, W)
    change = only(eng.external("dht11", action="update", source_id=7, severity=W, now=at(3)))
    assert change.phase is Phase.DEESCALATED
    change = only(eng.external("dht11", action="update", source_id=7, message="new", now=at(4)))
    assert (change.phase, change.incident.message) == (Phase.UPDATED, "new")
    assert eng.external("dht11", action="update", source_id=7, value=2.0, now=at(5)) == []
    assert eng.get(incident.id).value == 2.0  # type: ignore[union-attr]
    change = only(eng.external("dht11", action="resolve", source_id=7, now=at(6)))
    assert (change.phase, change.incident.resolve_reason) == (Phase.RESOLVED, "source")
    # A replayed create of a resolved incident does not bring it back.
    assert eng.external("dht11", action="create", source_id=7, now=at(7)) == []


def test_external_unknown_or_missing_source_changes_nothing() -> None:
    eng = engine()
    eng.external("d1", action="create", source_id="a", now=T0)
    assert eng.external("d1", action="update", source_id="zz", severity=C, now=T0) == []
    assert eng.external("d1", action="resolve", source_id="zz", now=T0) == []
    assert eng.external("d2", action="resolve", source_id="a", now=T0) == []
    assert eng.external("d1", action="update", severity=C, now=T0) == []
    assert eng.external("d1", action="resolve", now=T0) == []
    with pytest.raises(ValueError, match="unknown action"):
        eng.external("d1", action="delete", now=T0)  # type: ignore[arg-type]
    assert len(eng.open_incidents()) == 1


def test_alerts_without_source_update_the_open_external_incident() -> None:
    eng = engine()
    first = only(eng.external("esp", action="create", severity=W, message="hot", now=T0)).incident
    assert first.source_id is None
    change = only(eng.external("esp", action="create", severity=E, now=at(1)))
    assert (change.phase, change.incident.id) == (Phase.ESCALATED, first.id)
    # An alert never calms an incident down.
    assert eng.external("esp", action="create", severity=Severity.INFO, now=at(2)) == []
    change = only(eng.external("esp", action="create", message="hotter", now=at(3)))
    assert change.phase is Phase.UPDATED
    assert len(eng.open_incidents()) == 1


def test_has_timers_follows_pending_violations() -> None:
    engine = IncidentEngine()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert not engine.has_timers()
    assert engine.reading("dht11", {"temperature": 3.0}, start) == []
    assert engine.has_timers()
    assert engine.reading("dht11", {"temperature": 20.0}, start) == []
    assert not engine.has_timers()
