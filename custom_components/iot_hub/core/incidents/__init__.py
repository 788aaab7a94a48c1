"""Incidents: rules over readings, offline timers and external reports, free of Home Assistant.

`IncidentEngine` is a pure state machine (time is passed in); `messages`
speaks the users' Django system's MQTT incident format (DHT11 topics).
"""

from .engine import IncidentEngine
from .errors import (
    IncidentAlreadyAcknowledged,
    IncidentAlreadyResolved,
    IncidentError,
    IncidentNotFound,
    RuleError,
)
from .models import (
    Bounds,
    Change,
    Direction,
    Incident,
    IncidentKind,
    IncidentStatus,
    OfflineRule,
    Phase,
    ResolveReason,
    Rule,
    Severity,
)
from .rules import DEFAULT_RULES, rule_from_dict, rule_to_dict

__all__ = [
    "DEFAULT_RULES",
    "Bounds",
    "Change",
    "Direction",
    "Incident",
    "IncidentAlreadyAcknowledged",
    "IncidentAlreadyResolved",
    "IncidentEngine",
    "IncidentError",
    "IncidentKind",
    "IncidentNotFound",
    "IncidentStatus",
    "OfflineRule",
    "Phase",
    "ResolveReason",
    "Rule",
    "RuleError",
    "Severity",
    "rule_from_dict",
    "rule_to_dict",
]
