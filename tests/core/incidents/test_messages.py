"""MQTT interop with the users' Django system: decoding commands, encoding status and alerts."""

from datetime import UTC, datetime, timedelta
import json
from typing import Any

from hypothesis import given, settings, strategies as st
import orjson
import pytest

from custom_components.iot_hub.core.incidents import (
    Change,
    IncidentEngine,
    IncidentKind,
    OfflineRule,
    Phase,
    Severity,
)
from custom_components.iot_hub.core.incidents.messages import (
    MAX_MESSAGE,
    SOURCE,
    IncidentCommand,
    IncidentStatusEcho,
    Rejected,
    Rejection,
    decode_alert_severity,
    decode_incident_command,
    encode_alert,
    encode_incident_status,
    wire_id,
)
from custom_components.iot_hub.core.incidents.models import Bounds, Rule

T0 = datetime(2026, 1, 4, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """No MQTT client here."""


def decode(data: Any) -> IncidentCommand | IncidentStatusEcho | Rejected:
    # json, not orjson: it writes integers beyond 64 bits too (orjson must refuse them).
    return decode_incident_command(json.dumps(data, ensure_ascii=False).encode())


def command(data: Any) -> IncidentCommand:
    result = decode(data)
    assert isinstance(result, IncidentCommand), result
    return result


def rejection(data: Any) -> Rejection:
    result = decode(data) if not isinstance(data, bytes) else decode_incident_command(data)
    assert isinstance(result, Rejected), result
    return result.reason


# ---------------------------------------------------------------------- commands


def test_django_create_with_every_field() -> None:
    result = command(
        {
            "action": "create",
            "incident_id": 12,
            "device_id": "esp32_salon",
            "severity": "critical",
            "message": "  Température trop basse  ",
            "metric": "temperature",
            "value": 3.5,
            "temperature": 3.5,
            "humidity": 61,
        }
    )
    assert result == IncidentCommand(
        action="create",
        device_id="esp32_salon",
        source_id=12,
        severity=Severity.CRITICAL,
        message="Température trop basse",
        metric="temperature",
        value=3.5,
        values={"temperature": 3.5, "humidity": 61.0},
    )


def test_minimal_create_and_seed_000_field_names() -> None:
    assert command({"action": "create"}) == IncidentCommand("create", "dht11")
    result = command(
        {
            "action": " CREATE ",
            "level": "Crítica",
            "description": "Humidité élevée",
            "type": "humidity_high",
            "humidity": "85",
        }
    )
    assert (result.action, result.device_id, result.source_id) == ("create", "dht11", None)
    assert (result.severity, result.message) == (Severity.CRITICAL, "Humidité élevée")
    assert (result.metric, result.value) == ("humidity", 85.0)
    # Only one value and no metric: that value is the incident's.
    result = command({"action": "create", "temperature": 2})
    assert (result.metric, result.value) == ("temperature", 2.0)
    # Unknown metric words are kept (capped); unknown severities are warnings.
    result = command({"action": "create", "type": "Smoke", "severity": 3, "value": "x"})
    assert (result.metric, result.severity, result.value) == ("smoke", Severity.WARNING, None)
    result = command({"action": "create", "metric": "pressure_low", "type": "ignored"})
    assert result.metric == "pressure"
    assert command({"action": "create", "metric": "dew_low"}).metric == "dew_low"


def test_update_and_resolve_need_an_incident_id() -> None:
    assert command({"action": "update", "incident_id": "a7", "severity": "low"}).severity is (
        Severity.INFO
    )
    resolve = command({"action": "resolve", "incident_id": 7.0, "device_id": 42})
    assert (resolve.action, resolve.source_id, resolve.device_id) == ("resolve", 7, "42")
    assert rejection({"action": "update"}) is Rejection.MISSING_FIELD
    assert rejection({"action": "resolve", "incident_id": None}) is Rejection.MISSING_FIELD


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"incident_id": 1}, Rejection.MISSING_FIELD),
        ({"action": 5}, Rejection.MISSING_FIELD),
        ({"action": "delete", "incident_id": 1}, Rejection.UNKNOWN_EVENT_TYPE),
        ({"action": "create", "incident_id": True}, Rejection.WRONG_TYPE),
        ({"action": "create", "incident_id": 1.5}, Rejection.WRONG_TYPE),
        ({"action": "create", "incident_id": 1e300}, Rejection.WRONG_TYPE),
        ({"action": "create", "incident_id": "x" * 129}, Rejection.WRONG_TYPE),
        ({"action": "create", "incident_id": "  "}, Rejection.WRONG_TYPE),
        ({"action": "create", "incident_id": [1]}, Rejection.WRONG_TYPE),
        ({"action": "create", "device_id": "a/b"}, Rejection.INVALID_DEVICE_ID),
        ({"action": "create", "device_id": "x" * 65}, Rejection.INVALID_DEVICE_ID),
        ({"action": "create", "device_id": {"id": 1}}, Rejection.INVALID_DEVICE_ID),
        ({"action": "create", "device_id": True}, Rejection.INVALID_DEVICE_ID),
        ([1, 2], Rejection.NOT_AN_OBJECT),
        (b"{", Rejection.INVALID_JSON),
        (b"\xff\xfe{}", Rejection.INVALID_JSON),
        (b'{"action": NaN}', Rejection.INVALID_JSON),
        (b"[" * 300 + b"]" * 300, Rejection.NOT_AN_OBJECT),
        (b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}", Rejection.INVALID_JSON),
        (b" " * (65 * 1024), Rejection.TOO_LARGE),
    ],
)
def test_rejections(data: Any, reason: Rejection) -> None:
    assert rejection(data) is reason


def test_hostile_but_valid_payloads_are_capped() -> None:
    huge = "é" * 9_000  # 18 kB of UTF-8, three times: under the 64 kB cap
    result = command(
        {
            "action": "create",
            "message": huge,
            "severity": huge,
            "metric": huge,
            "nested": [[[[[]]]]] * 10,
            "value": [[[1]]],
            "temperature": {"a": 1},
        }
    )
    assert result.message is not None
    assert len(result.message) == MAX_MESSAGE
    assert result.severity is Severity.WARNING
    assert result.metric is not None
    assert len(result.metric) == 128
    assert (result.value, result.values) == (None, {})
    echo = decode({"incident_id": 1, "status": huge})
    assert isinstance(echo, IncidentStatusEcho)
    assert echo.status is not None
    assert len(echo.status) == 128


# ------------------------------------------------------------------------- echoes


def test_status_publications_are_echoes() -> None:
    django = decode({"incident_id": 1, "status": "open", "severity": "warning"})
    assert django == IncidentStatusEcho(1, "open", from_home_assistant=False)
    ours = decode({"incident_id": "3", "status": "resolved", "source": SOURCE})
    assert ours == IncidentStatusEcho("3", "resolved", from_home_assistant=True)
    # Our marker wins even over an action: we never act on our own messages.
    loop = decode({"action": "create", "source": SOURCE})
    assert loop == IncidentStatusEcho(None, None, from_home_assistant=True)
    # A status without an id is no echo and no command.
    assert rejection({"status": "open"}) is Rejection.MISSING_FIELD


# --------------------------------------------------------------------- severities


@pytest.mark.parametrize(
    ("word", "severity"),
    [
        ("info", Severity.INFO),
        ("warning", Severity.WARNING),
        ("critical", Severity.CRITICAL),
        ("emergency", Severity.EMERGENCY),
        ("LOW", Severity.INFO),
        ("medium", Severity.WARNING),
        ("High", Severity.CRITICAL),
        ("critique", Severity.CRITICAL),
        ("crítica", Severity.CRITICAL),
        ("critica", Severity.CRITICAL),
        ("urgence", Severity.EMERGENCY),
        ("Urgencia", Severity.EMERGENCY),
        ("avertissement", Severity.WARNING),
        ("advertencia", Severity.WARNING),
        ("élevée", Severity.CRITICAL),
        ("  faible ", Severity.INFO),
        ("whatever", Severity.WARNING),
        ("", Severity.WARNING),
        (None, Severity.WARNING),
        (7, Severity.WARNING),
    ],
)
def test_decode_alert_severity(word: Any, severity: Severity) -> None:
    assert decode_alert_severity(word) is severity


# ----------------------------------------------------------------------- encoding


def open_threshold_change() -> tuple[IncidentEngine, Change]:
    rule = Rule("temp", "temperature", None, {Severity.WARNING: Bounds(5, 35)}, 0.5, 0)
    eng = IncidentEngine([rule])
    (change,) = eng.reading("d1", {"temperature": 3.0}, T0)
    return eng, change


def test_encode_incident_status_in_seed_000_shape() -> None:
    eng, change = open_threshold_change()
    ack = eng.acknowledge(change.incident.id, by="ana", now=T0 + timedelta(seconds=5))
    payload = orjson.loads(encode_incident_status(ack.incident))
    assert payload == {
        "incident_id": change.incident.id,
        "status": "acknowledged",
        "severity": "warning",
        "device_id": "d1",
        "metric": "temperature",
        "value": 3.0,
        "threshold": 5.0,
        "message": "temperature 3 below 5",
        "opened_at": "2026-01-04T10:00:00+00:00",
        "acknowledged_at": "2026-01-04T10:00:05+00:00",
        "acknowledged_by": "ana",
        "resolved_at": None,
        "source": "home_assistant",
    }
    # Heard back, it is recognised as our own.
    echo = decode_incident_command(encode_incident_status(ack.incident))
    assert echo == IncidentStatusEcho(change.incident.id, "acknowledged", True)


def test_encode_alert_types_and_ids() -> None:
    eng, change = open_threshold_change()
    alert = orjson.loads(encode_alert(change))
    assert alert == {
        "incident_id": change.incident.id,
        "alert_type": "temperature_low",
        "severity": "warning",
        "device_id": "d1",
        "value": 3.0,
        "threshold": 5.0,
        "message": "temperature 3 below 5",
        "timestamp": "2026-01-04T10:00:00+00:00",
        "phase": "opened",
        "status": "open",
        "source": "home_assistant",
    }
    (high,) = eng.reading("d2", {"temperature": 40.5}, T0)
    assert orjson.loads(encode_alert(high))["message"] == "temperature 40.5 above 35"
    (external,) = eng.external("dht11", action="create", source_id=12, message="m", now=T0)
    alert = orjson.loads(encode_alert(external))
    assert (alert["incident_id"], alert["alert_type"], alert["message"]) == (12, "external", "m")
    assert wire_id(external.incident) == 12
    assert wire_id(change.incident) == change.incident.id
    status = orjson.loads(encode_incident_status(external.incident))
    assert status["incident_id"] == 12
    (silent,) = eng.external("esp", action="create", now=T0)
    assert orjson.loads(encode_alert(silent))["message"] is None


def test_encode_offline_and_odd_threshold_incidents() -> None:
    eng = IncidentEngine((), [OfflineRule("off", None, 0)])
    (change,) = eng.device_status("esp", False, T0)
    alert = orjson.loads(encode_alert(change))
    assert (alert["alert_type"], alert["message"], alert["value"]) == (
        "offline",
        "esp offline",
        None,
    )
    odd = change.incident.copy()
    odd.kind, odd.metric = IncidentKind.THRESHOLD, "humidity"
    assert orjson.loads(encode_alert(Change(Phase.UPDATED, odd)))["alert_type"] == "threshold"
    assert orjson.loads(encode_incident_status(odd))["message"] == "humidity out of range"
    (resolved,) = eng.device_status("esp", True, T0 + timedelta(minutes=1))
    status = orjson.loads(encode_incident_status(resolved.incident))
    assert (status["status"], status["resolved_at"]) == ("resolved", "2026-01-04T10:01:00+00:00")


# -------------------------------------------------------------------------- fuzz

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    ["action", "incident_id", "device_id", "severity", "level", "message", "description"]
) | st.sampled_from(["metric", "type", "value", "temperature", "humidity", "status", "source"])
_WORDS = st.sampled_from(["create", "update", "resolve", "home_assistant", "critical", "1", ""])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_never_raise(payload: bytes) -> None:
    assert isinstance(
        decode_incident_command(payload), IncidentCommand | IncidentStatusEcho | Rejected
    )


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _JSON | _WORDS, max_size=10))
def test_any_object_never_raises(data: dict[str, Any]) -> None:
    result = decode(data)
    assert isinstance(result, IncidentCommand | IncidentStatusEcho | Rejected)
    if isinstance(result, IncidentCommand):
        assert result.message is None or len(result.message) <= MAX_MESSAGE
        assert result.metric is None or len(result.metric) <= 128
