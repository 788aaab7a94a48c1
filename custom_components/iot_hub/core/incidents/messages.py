"""MQTT interop with the users' Django incident system (DHT11 topics).

In: `dht11/incidents` commands (`{"action": "create" | "update" | "resolve", ...}`)
and `iot/alerts/{device_id}` levels. Out: incident status on `dht11/incidents`
and alerts on `dht11/alerts`, marked `"source": "home_assistant"` so that our
own publications, heard back, are recognised and never re-created.
Decoding never raises, whatever the bytes.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
import unicodedata

import orjson

from ..local.common import as_number, as_text, parse_json_object, quote, valid_device_id
from ..local.dht11 import DHT11_DEVICE_ID
from ..local.metrics import metric_for
from ..local.models import Rejected, Rejection
from .engine import Action
from .models import Change, Direction, Incident, IncidentKind, Severity

__all__ = [
    "SOURCE",
    "IncidentCommand",
    "IncidentStatusEcho",
    "Rejected",
    "Rejection",
    "decode_alert_severity",
    "decode_incident_command",
    "encode_alert",
    "encode_incident_status",
    "wire_id",
]

# Marks what we publish; a message carrying it is our own echo.
SOURCE: Final = "home_assistant"
MAX_WORD: Final = 128
MAX_MESSAGE: Final = 512
_ACTIONS: Final[Mapping[str, Action]] = {
    "create": "create",
    "update": "update",
    "resolve": "resolve",
}
# Django's values carried along with a command, by their key in the payload.
_VALUE_KEYS: Final = ("temperature", "humidity")
_ANY_NUMBER: Final = (float("-inf"), float("inf"))

# Severity words of the Django system (`severity`) and the IoT platform (`level`), in English,
# French and Spanish, without accents or case; anything else is a warning.
_SEVERITY_WORDS: Final[Mapping[str, Severity]] = {
    word: severity
    for severity, words in (
        (Severity.INFO, "info information low faible bas basse bajo baja"),
        (
            Severity.WARNING,
            "warning warn medium avertissement moyen moyenne advertencia medio media",
        ),
        (Severity.CRITICAL, "critical high critique critica critico eleve elevee alto alta"),
        (Severity.EMERGENCY, "emergency urgence urgencia emergencia"),
    )
    for word in words.split()
}


@dataclass(frozen=True, slots=True)
class IncidentCommand:
    """A `create`/`update`/`resolve` command; feed it to `IncidentEngine.external`.

    `device_id` is the DHT11's when the payload names none (the DHT11 system has one
    sensor); `source_id` is the sender's `incident_id`.
    """

    action: Action
    device_id: str
    source_id: str | int | None = None
    severity: Severity | None = None
    message: str | None = None
    metric: str | None = None
    value: float | None = None
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncidentStatusEcho:
    """A status publication (Django's, or ours heard back): to be ignored, never re-created."""

    source_id: str | int | None
    status: str | None
    from_home_assistant: bool


def _word(value: object) -> str | None:
    """Return the lower-case, accent-free, capped text of a word, for table lookups."""
    if not isinstance(value, str):
        return None
    decomposed = unicodedata.normalize("NFKD", value[: MAX_WORD * 2].strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))[:MAX_WORD] or None


def decode_alert_severity(level: str | None) -> Severity:
    """Map a severity or level word (any case, accents optional) to a `Severity`."""
    word = _word(level)
    return Severity.WARNING if word is None else _SEVERITY_WORDS.get(word, Severity.WARNING)


def _source_id(value: object) -> str | int | Rejected | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Rejected(Rejection.WRONG_TYPE, "incident_id is bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str) and 0 < len(value.strip()) <= MAX_WORD:
        return value.strip()
    return Rejected(Rejection.WRONG_TYPE, f"incident_id is {quote(value)}")


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    return next((data[key] for key in keys if data.get(key) is not None), None)


def _number(key: str, value: object) -> float | None:
    if value is None:
        return None
    number = as_number(key, value, _ANY_NUMBER, text=True)
    return None if isinstance(number, Rejected) else number


def _metric(value: object) -> str | None:
    """Return a metric key from `metric`/`type`; `temperature_low` (an alert type) counts too."""
    word = _word(value)
    if word is None:
        return None
    if (metric := metric_for(word)) is not None:
        return metric.key
    stem, _, side = word.rpartition("_")
    if side in {"low", "high"} and (metric := metric_for(stem)) is not None:
        return metric.key
    return word


def decode_incident_command(
    payload: bytes,
) -> IncidentCommand | IncidentStatusEcho | Rejected:
    """Decode a `dht11/incidents` message: a command, a status echo, or why neither."""
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    source_id = _source_id(data.get("incident_id"))
    if isinstance(source_id, Rejected):
        return source_id
    ours = data.get("source") == SOURCE
    if ours or ("action" not in data and source_id is not None and "status" in data):
        return IncidentStatusEcho(source_id, as_text(data.get("status")), ours)
    action_word = _word(data.get("action"))
    action = None if action_word is None else _ACTIONS.get(action_word)
    if action is None:
        detail = "action" if action_word is None else f"action={quote(action_word)}"
        reason = Rejection.MISSING_FIELD if action_word is None else Rejection.UNKNOWN_EVENT_TYPE
        return Rejected(reason, detail)
    if action != "create" and source_id is None:
        return Rejected(Rejection.MISSING_FIELD, "incident_id")
    return _command(data, action, source_id)


def _device_id(value: object) -> str | Rejected:
    """Return the payload's device id (Django may send a number), or the DHT11's."""
    if value is None:
        return DHT11_DEVICE_ID
    text = value if isinstance(value, str) else as_text(value)
    device_id = valid_device_id(text)
    return Rejected(Rejection.INVALID_DEVICE_ID, quote(value)) if device_id is None else device_id


def _command(
    data: Mapping[str, Any], action: Action, source_id: str | int | None
) -> IncidentCommand | Rejected:
    device_id = _device_id(data.get("device_id"))
    if isinstance(device_id, Rejected):
        return device_id
    level = _first(data, "severity", "level")
    values = {
        key: number for key in _VALUE_KEYS if (number := _number(key, data.get(key))) is not None
    }
    metric = _metric(_first(data, "metric", "type"))
    value = _number("value", data.get("value"))
    if value is None and metric in values:
        value = values[metric]
    if metric is None and value is None and len(values) == 1:
        ((metric, value),) = values.items()
    return IncidentCommand(
        action=action,
        device_id=device_id,
        source_id=source_id,
        severity=None if level is None else decode_alert_severity(level),
        message=as_text(_first(data, "message", "description"), MAX_MESSAGE),
        metric=metric,
        value=value,
        values=values,
    )


def wire_id(incident: Incident) -> str | int:
    """Return the id the other system knows the incident by: its own, else ours."""
    return incident.id if incident.source_id is None else incident.source_id


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _message(incident: Incident) -> str | None:
    """Return the incident's message; a short English one for ours (Django e-mails it)."""
    if incident.message is not None or incident.kind is IncidentKind.EXTERNAL:
        return incident.message
    if incident.kind is IncidentKind.OFFLINE:
        return f"{incident.device_id} offline"
    if incident.value is None or incident.threshold is None:
        return f"{incident.metric} out of range"
    side = "below" if incident.direction is Direction.LOW else "above"
    return f"{incident.metric} {incident.value:g} {side} {incident.threshold:g}"


def encode_incident_status(incident: Incident) -> bytes:
    """Encode an incident's state for `dht11/incidents`, in the Django system's shape."""
    return orjson.dumps(
        {
            "incident_id": wire_id(incident),
            "status": str(incident.status),
            "severity": str(incident.severity),
            "device_id": incident.device_id,
            "metric": incident.metric,
            "value": incident.value,
            "threshold": incident.threshold,
            "message": _message(incident),
            "opened_at": _iso(incident.opened_at),
            "acknowledged_at": _iso(incident.acknowledged_at),
            "acknowledged_by": incident.acknowledged_by,
            "resolved_at": _iso(incident.resolved_at),
            "source": SOURCE,
        }
    )


def encode_alert(change: Change) -> bytes:
    """Encode a change for `dht11/alerts` (the Django system's shape, plus `phase` and `status`)."""
    incident = change.incident
    if incident.kind is IncidentKind.THRESHOLD and incident.direction is not None:
        alert_type = f"{incident.metric}_{incident.direction}"
    else:
        alert_type = str(incident.kind)
    return orjson.dumps(
        {
            "incident_id": wire_id(incident),
            "alert_type": alert_type,
            "severity": str(incident.severity),
            "device_id": incident.device_id,
            "value": incident.value,
            "threshold": incident.threshold,
            "message": _message(incident),
            "timestamp": incident.updated_at.isoformat(),
            "phase": str(change.phase),
            "status": str(incident.status),
            "source": SOURCE,
        }
    )
