"""Where incidents live: open ones (one per device and rule) and a bounded history."""

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from .errors import IncidentAlreadyResolved, IncidentNotFound
from .models import (
    Change,
    Direction,
    Incident,
    IncidentKind,
    IncidentStatus,
    Phase,
    ResolveReason,
    Severity,
)


class IncidentBook:
    """Open incidents by id and by (device, rule id), and the resolved ones.

    Every transition to `resolved` goes through `resolve`, which moves the
    incident to the history; timestamps are clamped so they never go back.
    """

    def __init__(
        self, history_size: int, history_age: timedelta, id_factory: Callable[[], str] | None
    ) -> None:
        self.history_size = history_size
        self.history_age = history_age
        self._id_factory = id_factory
        self.seq = 0
        self.open: dict[str, Incident] = {}
        # (device, rule id) -> its open incident: there is at most one.
        self.keys: dict[tuple[str, str], Incident] = {}
        # Resolution order, oldest first.
        self.history: deque[Incident] = deque()

    def restore(self, seq: int, history: Iterable[Incident]) -> None:
        """Start over from stored state (open incidents are `add`ed afterwards)."""
        self.seq, self.open, self.keys, self.history = seq, {}, {}, deque(history)

    def new(
        self,
        device_id: str,
        kind: IncidentKind,
        severity: Severity,
        now: datetime,
        *,
        rule_id: str | None = None,
        metric: str | None = None,
        value: float | None = None,
        threshold: float | None = None,
        direction: Direction | None = None,
        message: str | None = None,
        source_id: str | int | None = None,
    ) -> Change:
        """Open a new incident."""
        return self.add(
            Incident(
                id=self._new_id(),
                device_id=device_id,
                kind=kind,
                severity=severity,
                status=IncidentStatus.OPEN,
                opened_at=now,
                updated_at=now,
                rule_id=rule_id,
                metric=metric,
                value=value,
                threshold=threshold,
                direction=direction,
                message=message,
                source_id=source_id,
            )
        )

    def add(self, incident: Incident) -> Change:
        """Track an open incident."""
        self.open[incident.id] = incident
        if incident.rule_id is not None:
            self.keys[incident.device_id, incident.rule_id] = incident
        return Change(Phase.OPENED, incident.copy())

    def remove(self, incident: Incident) -> None:
        """Stop tracking an open incident."""
        del self.open[incident.id]
        if incident.rule_id is not None:
            self.keys.pop((incident.device_id, incident.rule_id), None)

    def resolve(
        self,
        incident: Incident,
        reason: ResolveReason,
        now: datetime,
        *,
        by: str | None = None,
        note: str | None = None,
    ) -> Change:
        """Resolve an open incident and move it to the history."""
        self.remove(incident)
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = incident.updated_at = max(now, incident.updated_at)
        incident.resolve_reason = reason
        incident.resolved_by = by
        incident.note = incident.note if note is None else note
        self.history.append(incident)
        return Change(Phase.RESOLVED, incident.copy())

    def require_open(self, incident_id: str) -> Incident:
        """Return the open incident with that id, or raise why there is none."""
        incident = self.open.get(incident_id)
        if incident is not None:
            return incident
        if self.find_history(incident_id) is not None:
            raise IncidentAlreadyResolved(incident_id)
        raise IncidentNotFound(incident_id)

    def find_history(self, incident_id: str) -> Incident | None:
        """Return the resolved incident with that id, if still kept."""
        return next((i for i in self.history if i.id == incident_id), None)

    def find_external(self, device_id: str, source_id: str | int | None) -> Incident | None:
        """Return the device's newest open external incident (with that `source_id`, if any).

        Source ids compare as text: Django's `1` and `"1"` are one incident.
        """
        wanted = None if source_id is None else str(source_id)
        found = None
        for incident in self.open.values():
            if (
                incident.kind is IncidentKind.EXTERNAL
                and incident.device_id == device_id
                and (wanted is None or str(incident.source_id) == wanted)
            ):
                found = incident
        return found

    def was_resolved(self, device_id: str, source_id: str | int) -> bool:
        """Whether the history holds the device's external incident `source_id`."""
        wanted = str(source_id)
        return any(
            i.device_id == device_id and i.source_id is not None and str(i.source_id) == wanted
            for i in self.history
        )

    def forget(self, device_id: str) -> None:
        """Drop every incident of a device, open or resolved."""
        for incident in [i for i in self.open.values() if i.device_id == device_id]:
            self.remove(incident)
        self.history = deque(i for i in self.history if i.device_id != device_id)

    def prune(self, now: datetime) -> None:
        """Keep the history within `history_size` entries and `history_age`."""
        cutoff = now - self.history_age
        if any(i.resolved_at is None or i.resolved_at < cutoff for i in self.history):
            self.history = deque(
                i for i in self.history if i.resolved_at is not None and i.resolved_at >= cutoff
            )
        while len(self.history) > self.history_size:
            self.history.popleft()

    def _new_id(self) -> str:
        if self._id_factory is not None:
            return self._id_factory()
        # Short and readable ("17"). The sequence is stored, and a load starts
        # it past every numeric id it read back, so ids stay unique.
        self.seq += 1
        return str(self.seq)


def set_severity(
    incident: Incident, severity: Severity | None, floor: Severity | None
) -> Change | None:
    """Move an incident to `severity` (never below `floor`), returning the change if any.

    Escalating an acknowledged incident re-opens it (status `open`, the
    acknowledgement cleared): a worse condition deserves a fresh alert.
    """
    previous = incident.severity
    if severity is None or severity == previous or (floor is not None and severity < floor):
        return None
    incident.severity = severity
    if severity < previous:
        return Change(Phase.DEESCALATED, incident.copy(), previous)
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        incident.status = IncidentStatus.OPEN
        incident.acknowledged_at = incident.acknowledged_by = None
    return Change(Phase.ESCALATED, incident.copy(), previous)


def update_external(
    incident: Incident,
    now: datetime,
    *,
    severity: Severity | None,
    floor: Severity | None,
    message: str | None,
    metric: str | None,
    value: float | None,
) -> Change | None:
    """Apply a report to an open external incident; `updated` when only its text changed."""
    incident.updated_at = max(now, incident.updated_at)
    incident.metric = metric or incident.metric
    incident.value = incident.value if value is None else value
    reworded = message is not None and message != incident.message
    incident.message = message or incident.message
    change = set_severity(incident, severity, floor)
    if change is None and reworded:
        change = Change(Phase.UPDATED, incident.copy())
    return change
