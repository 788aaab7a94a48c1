"""Rules (validation, defaults, flat form) and the incident data model."""

import copy
from datetime import UTC, datetime, timedelta
import json
import pickle
from typing import Any

import pytest

from custom_components.iot_hub.core.incidents import (
    DEFAULT_RULES,
    Bounds,
    Change,
    Incident,
    IncidentKind,
    IncidentStatus,
    OfflineRule,
    Phase,
    Rule,
    RuleError,
    Severity,
    rule_from_dict,
    rule_to_dict,
)
from custom_components.iot_hub.core.incidents.models import Direction, ResolveReason
from custom_components.iot_hub.core.incidents.rules import (
    offline_rule_from_dict,
    offline_rule_to_dict,
)

T0 = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)
INF, W, C, E = Severity.INFO, Severity.WARNING, Severity.CRITICAL, Severity.EMERGENCY


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """No MQTT client here."""


# ---------------------------------------------------------------------- severity


def test_severity_orders_by_rank_not_alphabet() -> None:
    assert [s.rank for s in (INF, W, C, E)] == [0, 1, 2, 3]
    assert max(W, E, INF, C) is E
    assert min(C, W) is W
    assert sorted([E, INF, C, W]) == [INF, W, C, E]
    assert INF < W <= W < C
    assert E > C >= C
    assert W == "warning"
    for compare in ("__lt__", "__le__", "__gt__", "__ge__"):
        assert getattr(W, compare)(1) is NotImplemented
    with pytest.raises(TypeError):
        assert W < 1  # type: ignore[operator]


# ------------------------------------------------------------------------ rules


def test_default_rules_are_seed_000_thresholds() -> None:
    temperature, humidity = DEFAULT_RULES
    assert (temperature.id, temperature.metric, temperature.device_id) == (
        "default_temperature",
        "temperature",
        None,
    )
    assert temperature.bounds == {W: Bounds(5, 35)}
    assert (temperature.hysteresis, temperature.min_duration) == (0.5, 60)
    assert (humidity.id, humidity.bounds) == ("default_humidity", {W: Bounds(20, 80)})
    assert (humidity.hysteresis, humidity.min_duration) == (2, 60)
    assert all(rule.base_severity is W and rule.enabled for rule in DEFAULT_RULES)


def test_bounds() -> None:
    bounds = Bounds(5, 35)
    assert (bounds.violation(4.9), bounds.violation(5), bounds.violation(35.1)) == (
        Direction.LOW,
        None,
        Direction.HIGH,
    )
    assert bounds.inside_by(6, 1)
    assert not bounds.inside_by(5.9, 1)
    assert bounds.inside_by(34, 1)
    assert not bounds.inside_by(34.1, 1)
    assert (bounds.limit(Direction.LOW), bounds.limit(Direction.HIGH)) == (5, 35)
    upper = Bounds(max=10)
    assert upper.violation(-1e9) is None
    assert upper.inside_by(-1e9, 5)


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (Bounds, "no_bounds"),
        (lambda: Bounds(5, 5), "min_not_below_max"),
        (lambda: Bounds(float("nan"), 5), "invalid_number"),
        (lambda: Bounds(True, 5), "invalid_number"),
        (lambda: Rule("", "temperature", None, {W: Bounds(1, 2)}), "invalid_id"),
        (lambda: Rule("r", "", None, {W: Bounds(1, 2)}), "unknown_metric"),
        (lambda: Rule("r", "temperature", None, {}), "no_bounds"),
        (lambda: Rule("r", "temperature", None, {"fatal": Bounds(1, 2)}), "unknown_severity"),
        (lambda: Rule("r", "temperature", None, {W: Bounds(1, 9)}, -1), "negative_hysteresis"),
        (lambda: Rule("r", "temperature", None, {W: Bounds(1, 9)}, 0, -1), "negative_duration"),
        (lambda: Rule("r", "t", None, {W: Bounds(1, 9)}, float("inf")), "invalid_number"),
        (lambda: Rule("r", "t", None, {W: Bounds(1, 9)}, 4), "hysteresis_too_large"),
        (lambda: Rule("r", "t", None, {W: Bounds(1, 9), C: Bounds(2, 10)}), "severity_order"),
        (lambda: Rule("r", "t", None, {W: Bounds(1, 9), C: Bounds(0, 8)}), "severity_order"),
        (lambda: Rule("r", "t", None, {W: Bounds(max=9), C: Bounds(0, 10)}), "severity_order"),
        (lambda: Rule("r", "t", None, {W: Bounds(min=1), C: Bounds(0, 10)}), "severity_order"),
        (lambda: OfflineRule("", None, 10), "invalid_id"),
        (lambda: OfflineRule("o", None, -1), "negative_duration"),
    ],
)
def test_invalid_rules_raise_rule_error_with_a_key(make: Any, key: str) -> None:
    with pytest.raises(RuleError) as err:
        make()
    assert err.value.key == key
    assert isinstance(err.value, ValueError)


def test_rule_orders_and_freezes_its_bounds() -> None:
    rule = Rule("r", "t", None, {E: Bounds(-10, 50), INF: Bounds(10, 30), W: Bounds(5, 35)})
    assert list(rule.bounds) == [INF, W, E]
    assert rule.base_severity is INF
    with pytest.raises(TypeError):
        rule.bounds[C] = Bounds(0, 1)  # type: ignore[index]
    assert hash(rule) == hash(Rule("r", "t", None, {W: Bounds(0, 1)}))  # bounds not hashed
    assert copy.deepcopy(rule) == pickle.loads(pickle.dumps(rule)) == rule
    assert repr(rule.bounds).startswith("{<Severity.INFO")
    # Higher severities may leave a side open if the lower one does too.
    Rule("r", "t", None, {W: Bounds(max=35), C: Bounds(max=40)}, 100)
    Rule("r", "t", None, {W: Bounds(0, 35), C: Bounds(max=40)})


def test_rule_flat_form_round_trip() -> None:
    form = {
        "metric": "Temp",  # an alias, any case
        "device_id": "cellar",
        "warning_min": 5,
        "warning_max": "35",
        "critical_min": 0.0,
        "critical_max": None,
        "emergency_min": "",
        "info_min": 10,
        "info_max": " 30 ",
        "hysteresis": 0.5,
        "min_duration": 120,
        "name": "  Cellar temperature  ",
    }
    rule = rule_from_dict(form)
    assert (rule.id, rule.metric, rule.device_id, rule.name) == (
        "temperature_cellar",
        "temperature",
        "cellar",
        "Cellar temperature",
    )
    assert rule.bounds == {INF: Bounds(10, 30), W: Bounds(5, 35), C: Bounds(min=0)}
    assert (rule.hysteresis, rule.min_duration, rule.enabled) == (0.5, 120, True)
    flat = rule_to_dict(rule)
    assert json.loads(json.dumps(flat)) == flat
    assert flat["emergency_min"] is None
    assert flat["warning_max"] == 35
    assert rule_from_dict(flat) == rule
    assert rule_from_dict(flat, rule_id="mine").id == "mine"
    assert rule_from_dict({**flat, "enabled": False}).enabled is False
    assert rule_from_dict({**flat, "enabled": "no"}).enabled is True


def test_rule_from_minimal_form() -> None:
    rule = rule_from_dict({"metric": "humidity", "warning_max": 80, "device_id": "", "name": 3})
    assert (rule.id, rule.device_id, rule.name) == ("humidity_all", None, None)
    assert (rule.hysteresis, rule.min_duration) == (0, 0)
    assert (
        rule_from_dict({"metric": "battery", "warning_min": 15, "id": " low_bat "}).id == "low_bat"
    )


@pytest.mark.parametrize(
    ("form", "key", "field"),
    [
        ({"metric": "co2", "warning_min": 1}, "unknown_metric", "metric"),
        ({"metric": None, "warning_min": 1}, "unknown_metric", "metric"),
        ({"metric": "temperature"}, "no_bounds", None),
        ({"metric": "temperature", "warning_min": "cold"}, "invalid_number", "warning_min"),
        ({"metric": "temperature", "warning_min": "nan"}, "invalid_number", "warning_min"),
        ({"metric": "temperature", "warning_max": "9" * 40}, "invalid_number", "warning_max"),
        ({"metric": "temperature", "warning_max": [1]}, "invalid_number", "warning_max"),
        ({"metric": "temperature", "warning_max": True}, "invalid_number", "warning_max"),
        (
            {"metric": "temperature", "warning_min": 9, "warning_max": 1},
            "min_not_below_max",
            "warning_min",
        ),
        (
            {"metric": "temperature", "warning_min": 5, "critical_min": 6},
            "severity_order",
            "critical_min",
        ),
        (
            {"metric": "temperature", "warning_min": 5, "hysteresis": -1},
            "negative_hysteresis",
            "hysteresis",
        ),
        (
            {"metric": "temperature", "warning_min": 5, "min_duration": -1},
            "negative_duration",
            "min_duration",
        ),
        (
            {"metric": "temperature", "warning_min": 5, "device_id": "a/b"},
            "invalid_device_id",
            "device_id",
        ),
        (
            {"metric": "temperature", "warning_min": 5, "device_id": 7},
            "invalid_device_id",
            "device_id",
        ),
    ],
)
def test_rule_from_dict_errors(form: dict[str, Any], key: str, field: str | None) -> None:
    with pytest.raises(RuleError) as err:
        rule_from_dict(form)
    assert (err.value.key, err.value.field) == (key, field)


def test_offline_rule_flat_form() -> None:
    rule = offline_rule_from_dict({"device_id": "esp", "after": "600", "severity": "critical"})
    assert rule == OfflineRule("offline_esp", "esp", 600, C)
    assert offline_rule_to_dict(rule) == {
        "id": "offline_esp",
        "device_id": "esp",
        "after": 600,
        "severity": "critical",
    }
    assert offline_rule_from_dict(offline_rule_to_dict(rule)) == rule
    assert offline_rule_from_dict({"after": 60}).severity is W
    for form, key in (
        ({}, "invalid_number"),
        ({"after": 1, "severity": "bad"}, "unknown_severity"),
    ):
        with pytest.raises(RuleError) as err:
            offline_rule_from_dict(form)
        assert err.value.key == key
    with pytest.raises(RuleError) as err:
        offline_rule_from_dict({"after": 1, "severity": ["x"]})
    assert err.value.key == "unknown_severity"


# --------------------------------------------------------------------- incidents


def incident(**overrides: Any) -> Incident:
    fields: dict[str, Any] = {
        "id": "1",
        "device_id": "d1",
        "kind": IncidentKind.THRESHOLD,
        "severity": W,
        "status": IncidentStatus.OPEN,
        "opened_at": T0,
        "updated_at": T0,
        "rule_id": "temp",
        "metric": "temperature",
        "value": 3.0,
        "threshold": 5.0,
        "direction": Direction.LOW,
    }
    return Incident(**(fields | overrides))


def test_incident_dict_round_trip_is_json_safe() -> None:
    resolved = incident(
        status=IncidentStatus.RESOLVED,
        acknowledged_at=T0 + timedelta(seconds=1),
        acknowledged_by="ana",
        note="n",
        resolved_at=T0 + timedelta(seconds=2),
        resolve_reason=ResolveReason.PERSON,
        resolved_by="ana",
    )
    data = resolved.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert type(data["kind"]) is str
    assert data["resolved_at"] == "2026-01-04T10:00:02+00:00"
    assert Incident.from_dict(data) == resolved
    assert not resolved.is_open
    assert incident().is_open
    external = incident(kind=IncidentKind.EXTERNAL, rule_id=None, source_id=12, direction=None)
    assert Incident.from_dict(external.as_dict()) == external
    # Another offset is read back as UTC.
    shifted = Incident.from_dict({**incident().as_dict(), "opened_at": "2026-01-04T11:00:00+01:00"})
    assert shifted.opened_at == T0
    assert shifted.opened_at.tzinfo is UTC


@pytest.mark.parametrize(
    "overrides",
    [
        {"id": ""},
        {"id": 5},
        {"device_id": None},
        {"kind": "meteor"},
        {"severity": None},
        {"status": "closed"},
        {"opened_at": "2026-01-04T10:00:00"},
        {"opened_at": 0},
        {"opened_at": "x" * 100},
        {"updated_at": None},
        {"value": "3"},
        {"value": True},
        {"threshold": float("inf")},
        {"direction": "sideways"},
        {"source_id": 1.5},
        {"source_id": False},
        {"resolve_reason": "boredom"},
        {"rule_id": None},
        {"status": "resolved"},  # without resolved_at
        {"resolved_at": "2026-01-04T10:00:00+00:00"},  # while open
    ],
)
def test_incident_from_bad_dict_raises_value_error(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Incident.from_dict({**incident().as_dict(), **overrides})


def test_incident_from_non_mapping() -> None:
    with pytest.raises(ValueError, match="mapping"):
        Incident.from_dict([])  # type: ignore[arg-type]


def test_change_holds_a_snapshot() -> None:
    live = incident()
    change = Change(Phase.OPENED, live.copy())
    live.severity = E
    assert change.incident.severity is W
    assert change.previous_severity is None
    assert (Phase.UPDATED, IncidentStatus.ACKNOWLEDGED) == ("updated", "acknowledged")
