"""IncidentEngine: people's actions, history, time, memory and persistence."""

from datetime import UTC, datetime, timedelta
import json
from zoneinfo import ZoneInfo

import orjson
import pytest

from custom_components.iot_hub.core.incidents import (
    IncidentAlreadyAcknowledged,
    IncidentAlreadyResolved,
    IncidentEngine,
    IncidentError,
    IncidentKind,
    IncidentNotFound,
    IncidentStatus,
    OfflineRule,
    Phase,
    ResolveReason,
)
from custom_components.iot_hub.core.incidents.engine import MAX_TRACKED_DEVICES

from .test_engine import T0, E, W, at, engine, only, phases, temp_rule


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """No MQTT client here."""


# ------------------------------------------------------------------------ people


def test_acknowledge_and_resolve_errors() -> None:
    eng = engine(temp_rule(0))
    incident = only(eng.reading("d1", {"temperature": 40}, T0)).incident
    with pytest.raises(IncidentNotFound) as not_found:
        eng.acknowledge("nope", by="ana", now=T0)
    assert (not_found.value.key, not_found.value.incident_id) == ("incident_not_found", "nope")
    with pytest.raises(IncidentNotFound):
        eng.resolve("nope", by="ana", now=T0)
    eng.acknowledge(incident.id, by="ana", now=at(1))
    with pytest.raises(IncidentAlreadyAcknowledged) as already:
        eng.acknowledge(incident.id, by="ana", now=at(2))
    assert already.value.key == "incident_already_acknowledged"
    change = eng.resolve(incident.id, by="bob", note="fixed the heater", now=at(3))
    assert (change.incident.resolved_by, change.incident.note) == ("bob", "fixed the heater")
    assert change.incident.resolve_reason is ResolveReason.PERSON
    for call in (eng.acknowledge, eng.resolve):
        with pytest.raises(IncidentAlreadyResolved) as resolved:
            call(incident.id, by="ana", now=at(4))
        assert isinstance(resolved.value, IncidentError)
        assert resolved.value.key == "incident_already_resolved"
    # Still too hot: a new incident opens (re-armed), with a new id.
    assert only(eng.reading("d1", {"temperature": 40}, at(5))).incident.id != incident.id


def test_resolve_device_resolves_all_of_a_device() -> None:
    eng = engine(temp_rule(0))
    eng.reading("d1", {"temperature": 40}, T0)
    eng.external("d1", action="create", now=T0)
    eng.reading("d2", {"temperature": 40}, T0)
    eng.acknowledge_device("d1", by="ana", now=at(1))
    changes = eng.resolve_device("d1", by="ana", now=at(2))
    assert phases(changes) == [Phase.RESOLVED, Phase.RESOLVED]
    assert [i.device_id for i in eng.open_incidents()] == ["d2"]
    assert eng.acknowledge_device("d1", by="ana", now=at(3)) == []


# ----------------------------------------------------------------------- history


def test_history_is_bounded_by_count_and_age() -> None:
    eng = engine(temp_rule(0), history_size=3, history_age=timedelta(days=1))
    ids = []
    for step in range(5):
        ids.append(only(eng.reading("d1", {"temperature": 40}, at(step * 10))).incident.id)
        eng.reading("d1", {"temperature": 20}, at(step * 10 + 5))
    assert [i.id for i in eng.history()] == ids[:1:-1]  # newest first, 3 kept
    assert eng.get(ids[0]) is None
    with pytest.raises(IncidentNotFound):
        eng.resolve(ids[0], by="ana", now=at(100))
    assert eng.get(ids[4]) is not None
    eng.tick(at(40 + 86_400))
    assert [i.id for i in eng.history()] == [ids[4]]
    eng.tick(at(46 + 86_400))
    assert eng.history() == []


def test_zero_history_keeps_nothing() -> None:
    eng = engine(temp_rule(0), history_size=0)
    eng.reading("d1", {"temperature": 40}, T0)
    eng.reading("d1", {"temperature": 20}, T0)
    assert eng.history() == []
    with pytest.raises(ValueError, match="history_size"):
        IncidentEngine(history_size=-1)


# ----------------------------------------------------------------- time and memory


def test_timestamps_never_go_back() -> None:
    eng = engine(temp_rule(0))
    incident = only(eng.reading("d1", {"temperature": 40}, at(100))).incident
    assert eng.reading("d1", {"temperature": 38}, at(50)) == []
    assert eng.get(incident.id).updated_at == at(100)  # type: ignore[union-attr]
    ack = eng.acknowledge(incident.id, by="ana", now=at(10))
    assert ack.incident.acknowledged_at == at(100)
    resolved = eng.resolve(incident.id, by="ana", now=at(0))
    assert resolved.incident.opened_at <= resolved.incident.resolved_at  # type: ignore[operator]
    assert resolved.incident.resolved_at == at(100)


def test_now_must_be_aware_and_is_converted_to_utc() -> None:
    eng = engine(temp_rule(0))
    with pytest.raises(ValueError, match="timezone"):
        eng.tick(datetime(2026, 1, 4))
    paris = T0.astimezone(ZoneInfo("Europe/Paris"))
    incident = only(eng.reading("d1", {"temperature": 40}, paris)).incident
    assert incident.opened_at == T0
    assert incident.opened_at.tzinfo is UTC


def test_tracked_devices_are_capped() -> None:
    assert MAX_TRACKED_DEVICES == 10_000
    eng = IncidentEngine([temp_rule(60)], [OfflineRule("off", None, 60)], max_devices=2)
    for number in range(3):
        eng.reading(f"d{number}", {"temperature": 40}, at(number))
        eng.device_status(f"d{number}", False, at(number))
    dump = eng.dump()
    assert [p["device_id"] for p in dump["pending"]] == ["d1", "d2"]
    assert [o["device_id"] for o in dump["offline"]] == ["d1", "d2"]
    with pytest.raises(ValueError, match="max_devices"):
        IncidentEngine(max_devices=0)


def test_forget_device_drops_everything_silently() -> None:
    eng = IncidentEngine([temp_rule(60)], [OfflineRule("off", None, 60)])
    eng.reading("d1", {"temperature": 40}, T0)
    eng.device_status("d1", False, T0)
    eng.external("d1", action="create", now=T0)
    eng.external("d2", action="create", now=T0)
    eng.resolve_device("d2", by="ana", now=T0)
    eng.external("d1", action="create", source_id=1, now=T0)
    eng.external("d1", action="resolve", source_id=1, now=T0)
    eng.forget_device("d1")
    assert eng.open_incidents() == []
    assert [i.device_id for i in eng.history()] == ["d2"]
    assert eng.next_deadline() is None


def test_views_are_copies() -> None:
    eng = engine(temp_rule(0))
    change = only(eng.reading("d1", {"temperature": 40}, T0))
    change.incident.severity = E
    for view in (eng.open_incidents()[0], eng.for_device("d1")[0], eng.get(change.incident.id)):
        assert view is not None
        assert view.severity is W
        view.status = IncidentStatus.RESOLVED
    assert eng.open_incidents()[0].status is IncidentStatus.OPEN
    assert eng.for_device("nobody") == []


# ------------------------------------------------------------------- persistence


def test_dump_load_round_trip_announces_nothing_and_continues() -> None:
    offline = OfflineRule("off", None, 50)
    eng = IncidentEngine([temp_rule(60)], [offline])
    eng.reading("d1", {"temperature": 40}, at(0))
    eng.device_status("d3", False, at(0))
    gone = only(eng.tick(at(50))).incident
    eng.resolve(gone.id, by="ana", now=at(55))  # still offline: re-armed until 105
    opened = only(eng.tick(at(60))).incident
    eng.acknowledge(opened.id, by="ana", now=at(61))
    eng.reading("d2", {"temperature": 3}, at(70))  # pending until 130
    eng.external("d4", action="create", source_id=9, now=at(80))
    data = json.loads(json.dumps(eng.dump()))
    assert orjson.loads(orjson.dumps(eng.dump())) == data

    restored = IncidentEngine([temp_rule(60)], [offline])
    restored.load(data, at(90))
    assert restored.load_errors == 0
    assert restored.open_incidents() == eng.open_incidents()
    assert restored.history() == eng.history()
    assert restored.next_deadline() == eng.next_deadline() == at(105)
    # The still-bad condition continues its incident: no new "opened".
    assert restored.reading("d1", {"temperature": 39}, at(95)) == []
    assert restored.get(opened.id).status is IncidentStatus.ACKNOWLEDGED  # type: ignore[union-attr]
    assert restored.external("d4", action="create", source_id=9, now=at(96)) == []
    change = only(restored.tick(at(105)))
    assert (change.incident.kind, change.incident.device_id) == (IncidentKind.OFFLINE, "d3")
    change = only(restored.tick(at(130)))
    assert (change.incident.device_id, change.incident.value) == ("d2", 3.0)
    assert int(change.incident.id) > int(opened.id)  # the sequence went on


def test_load_moves_incidents_of_vanished_rules_to_history_silently() -> None:
    eng = IncidentEngine([temp_rule(0)], [OfflineRule("off", None, 0)])
    eng.reading("d1", {"temperature": 40}, T0)
    eng.device_status("d2", False, T0)
    eng.reading("d3", {"temperature": 40}, T0)  # pending of a removed rule:
    data = eng.dump()
    restored = IncidentEngine([temp_rule(0, id="other")], [])
    restored.load(data, at(5))
    assert restored.open_incidents() == []
    assert {i.resolve_reason for i in restored.history()} == {ResolveReason.RULE_REMOVED}
    assert restored.load_errors == 0


def test_load_counts_and_skips_garbage() -> None:
    good = IncidentEngine([temp_rule(0)])
    good.reading("d1", {"temperature": 40}, T0)
    good.reading("d2", {"temperature": 40}, T0)
    good.reading("d2", {"temperature": 20}, T0)
    dump = good.dump()
    incident, resolved = dump["open"][0], dump["history"][0]
    data = {
        "seq": 1,
        "open": [
            incident,
            incident,  # duplicate id
            {**incident, "id": "x"},  # same (device, rule) twice
            resolved | {"id": "y"},  # resolved in the open list
            {**incident, "severity": "apocalyptic"},
            "nonsense",
            {**incident, "id": "99", "device_id": "d9"},
        ],
        "history": [resolved, {**incident, "id": "z"}, {**resolved, "opened_at": "yesterday"}],
        "pending": [
            {"device_id": "d5", "rule_id": "temp", "since": T0.isoformat(), "value": 3.0},
            {"device_id": "d1", "rule_id": "temp", "since": T0.isoformat(), "value": 3.0},
            {"device_id": "d6", "rule_id": "gone", "since": T0.isoformat(), "value": 3.0},
            {"device_id": "d7", "rule_id": "temp", "since": "2026-01-04T10:00:00", "value": 3},
            {"device_id": "d7", "rule_id": "temp", "since": T0.isoformat(), "value": True},
            {"device_id": "", "rule_id": "temp", "since": T0.isoformat(), "value": 1},
            [],
        ],
        "offline": [
            {"device_id": "d8", "since": T0.isoformat(), "rearm": {"gone": T0.isoformat()}},
            {"device_id": "d8", "since": T0.isoformat(), "rearm": {"temp2": "never"}},
            {"device_id": "d8", "since": T0.isoformat(), "rearm": []},
            {"device_id": 8, "since": T0.isoformat()},
            None,
        ],
    }
    eng = IncidentEngine([temp_rule(60)], [OfflineRule("temp2", None, 10)])
    eng.load(data, at(1))
    assert eng.load_errors == 15
    assert sorted(i.id for i in eng.open_incidents()) == ["1", "99"]
    assert [i.id for i in eng.history()] == ["2"]
    assert eng.next_deadline() == T0 + timedelta(seconds=10)  # d8 offline, d5 pending at 60
    assert eng.dump()["seq"] == 99  # ids never collide with stored ones
    eng.reading("d4", {"temperature": 40}, at(2))
    assert only(eng.reading("d4", {"temperature": 40}, at(62))).incident.id == "100"


def test_load_respects_the_device_cap() -> None:
    eng = IncidentEngine([temp_rule(60)], [OfflineRule("off", None, 60)])
    for device in ("d1", "d2"):
        eng.reading(device, {"temperature": 40}, T0)
        eng.device_status(device, False, T0)
    small = IncidentEngine([temp_rule(60)], [OfflineRule("off", None, 60)], max_devices=1)
    small.load(eng.dump(), T0)
    dump = small.dump()
    assert [(p["device_id"], p["rule_id"]) for p in dump["pending"]] == [("d1", "temp")]
    assert [o["device_id"] for o in dump["offline"]] == ["d1"]


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "text",
        {"seq": -1},
        {"seq": True},
        {"open": {}},
        {"history": "x"},
        {"pending": 3},
        {"offline": {"a": 1}},
    ],
)
def test_load_of_garbage_never_raises(data: object) -> None:
    eng = engine()
    eng.reading("d1", {"temperature": 40}, T0)
    eng.load(data, T0)  # type: ignore[arg-type]
    assert eng.load_errors == 1
    assert eng.open_incidents() == []
    assert eng.next_deadline() is None
    eng.load({}, T0)
    assert eng.load_errors == 0


def test_custom_id_factory() -> None:
    ids = iter(["a", "b"])
    eng = engine(temp_rule(0), id_factory=lambda: next(ids))
    assert only(eng.reading("d1", {"temperature": 40}, T0)).incident.id == "a"
    assert only(eng.external("d1", action="create", now=T0)).incident.id == "b"
