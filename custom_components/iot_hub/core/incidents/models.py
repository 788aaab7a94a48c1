"""Incident vocabulary: severities, rules, incidents and the changes the engine emits.

Pure data with validation; no clock, no I/O. Every datetime is timezone-aware UTC.
"""

from collections.abc import Iterator, Mapping
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
import itertools
import math
from typing import Any, Final, Self

from .errors import RuleError


class Severity(StrEnum):
    """How bad an incident is, from `info` to `emergency`.

    Comparisons follow `rank` (not alphabetical order, as plain `str` would):
    `max()` and `<` give the worse severity.
    """

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """Position in the scale: 0 for info up to 3 for emergency."""
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank < other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank <= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank > other.rank
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Severity):
            return self.rank >= other.rank
        return NotImplemented


SEVERITIES: Final = tuple(Severity)
_RANK: Final[Mapping[Severity, int]] = {severity: rank for rank, severity in enumerate(SEVERITIES)}


class IncidentStatus(StrEnum):
    """Where an incident is in its life."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Phase(StrEnum):
    """What just happened to an incident (one `Change`)."""

    OPENED = "opened"
    ESCALATED = "escalated"
    DEESCALATED = "deescalated"
    ACKNOWLEDGED = "acknowledged"
    UPDATED = "updated"
    RESOLVED = "resolved"


class ResolveReason(StrEnum):
    """Why an incident was resolved."""

    BACK_IN_RANGE = "back_in_range"
    PERSON = "person"
    SOURCE = "source"
    ONLINE = "online"
    RULE_REMOVED = "rule_removed"


class IncidentKind(StrEnum):
    """What raised an incident."""

    THRESHOLD = "threshold"
    OFFLINE = "offline"
    EXTERNAL = "external"


class Direction(StrEnum):
    """Which side of its bounds a value left by."""

    LOW = "low"
    HIGH = "high"


def _finite(value: float | None, what: str) -> None:
    if value is not None and (isinstance(value, bool) or not math.isfinite(value)):
        raise RuleError("invalid_number", f"{what} must be a finite number")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The acceptable range of a value; either side may be open (None)."""

    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        _finite(self.min, "min")
        _finite(self.max, "max")
        if self.min is None and self.max is None:
            raise RuleError("no_bounds", "bounds need a min or a max")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise RuleError("min_not_below_max", f"min {self.min} is not below max {self.max}")

    def violation(self, value: float) -> Direction | None:
        """Which side `value` is outside by, or None when inside (bounds included)."""
        if self.min is not None and value < self.min:
            return Direction.LOW
        if self.max is not None and value > self.max:
            return Direction.HIGH
        return None

    def inside_by(self, value: float, margin: float) -> bool:
        """Whether `value` is inside by at least `margin` on both (set) sides."""
        return (self.min is None or value >= self.min + margin) and (
            self.max is None or value <= self.max - margin
        )

    def limit(self, direction: Direction) -> float | None:
        """Return the bound on the `direction` side."""
        return self.min if direction is Direction.LOW else self.max


class _FrozenBounds(Mapping[Severity, Bounds]):
    """A read-only mapping that, unlike MappingProxyType, pickles and deep-copies."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[Severity, Bounds]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: Severity) -> Bounds:
        return self._items[key]

    def __iter__(self) -> Iterator[Severity]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


@dataclass(frozen=True, slots=True)
class Rule:
    """A threshold rule on one metric, for one device (or all when `device_id` is None).

    `bounds` maps severities to ranges; a higher severity's range must contain
    the lower ones' (it is only violated when they all are). The lowest
    configured severity is the one an incident opens at and never drops below.
    """

    id: str
    metric: str
    device_id: str | None
    bounds: Mapping[Severity, Bounds] = field(hash=False)
    hysteresis: float = 0.0
    min_duration: float = 0.0
    enabled: bool = True
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise RuleError("invalid_id", "a rule needs a non-empty id")
        if not isinstance(self.metric, str) or not self.metric:
            raise RuleError("unknown_metric", "a rule needs a metric", "metric")
        if not self.bounds:
            raise RuleError("no_bounds", "a rule needs bounds for at least one severity")
        _finite(self.hysteresis, "hysteresis")
        _finite(self.min_duration, "min_duration")
        if self.hysteresis < 0:
            raise RuleError("negative_hysteresis", "hysteresis is negative", "hysteresis")
        if self.min_duration < 0:
            raise RuleError("negative_duration", "min_duration is negative", "min_duration")
        # Frozen copy, lowest severity first: evaluation walks it in that order.
        try:
            keyed = {Severity(key): value for key, value in self.bounds.items()}
        except ValueError:
            raise RuleError("unknown_severity", "bounds keys must be severities") from None
        ordered = dict(sorted(keyed.items(), key=lambda item: item[0].rank))
        object.__setattr__(self, "bounds", _FrozenBounds(ordered))
        levels = list(ordered.items())
        for (lower, low_bounds), (higher, high_bounds) in itertools.pairwise(levels):
            _check_wider(lower, low_bounds, higher, high_bounds)
        base = levels[0][1]
        # Otherwise no value could ever resolve an incident.
        if (
            base.min is not None
            and base.max is not None
            and 2 * self.hysteresis >= base.max - base.min
        ):
            raise RuleError(
                "hysteresis_too_large", "hysteresis leaves no room to resolve", "hysteresis"
            )

    @property
    def base_severity(self) -> Severity:
        """The lowest configured severity: where incidents open."""
        return next(iter(self.bounds))


def _check_wider(lower: Severity, low: Bounds, higher: Severity, high: Bounds) -> None:
    """Refuse a higher severity whose range does not contain the lower one's."""
    if high.min is not None and (low.min is None or high.min > low.min):
        raise RuleError(
            "severity_order", f"{higher} min must be at or below {lower} min", f"{higher}_min"
        )
    if high.max is not None and (low.max is None or high.max < low.max):
        raise RuleError(
            "severity_order", f"{higher} max must be at or above {lower} max", f"{higher}_max"
        )


@dataclass(frozen=True, slots=True)
class OfflineRule:
    """Open an `offline` incident once a device has been offline for `after` seconds."""

    id: str
    device_id: str | None
    after: float
    severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise RuleError("invalid_id", "an offline rule needs a non-empty id")
        _finite(self.after, "after")
        if self.after < 0:
            raise RuleError("negative_duration", "after is negative", "after")


@dataclass(slots=True, kw_only=True)
class Incident:
    """One incident, live in the engine; the outside world only sees copies."""

    id: str
    device_id: str
    kind: IncidentKind
    severity: Severity
    status: IncidentStatus
    opened_at: datetime
    updated_at: datetime
    rule_id: str | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    direction: Direction | None = None
    message: str | None = None
    source_id: str | int | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    note: str | None = None
    resolved_at: datetime | None = None
    resolve_reason: ResolveReason | None = None
    resolved_by: str | None = None

    @property
    def is_open(self) -> bool:
        """Open or acknowledged: not resolved yet."""
        return self.status is not IncidentStatus.RESOLVED

    def copy(self) -> Incident:
        """Return a detached snapshot."""
        return dataclasses.replace(self)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form (datetimes as ISO 8601 strings)."""
        data: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, StrEnum):
                value = value.value  # a plain str: any JSON encoder takes it
            data[name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a stored incident; raise ValueError on anything malformed."""
        if not isinstance(data, Mapping):
            # ValueError for any bad stored data: callers catch one type.
            raise ValueError("an incident must be a mapping")  # noqa: TRY004
        source_id = data.get("source_id")
        if isinstance(source_id, bool) or not isinstance(source_id, str | int | None):
            raise ValueError("source_id must be a string or an integer")  # noqa: TRY004
        incident = cls(
            id=_text(data, "id", required=True),
            device_id=_text(data, "device_id", required=True),
            kind=IncidentKind(data.get("kind", "")),
            severity=Severity(data.get("severity", "")),
            status=IncidentStatus(data.get("status", "")),
            opened_at=_moment(data, "opened_at", required=True),
            updated_at=_moment(data, "updated_at", required=True),
            rule_id=_text(data, "rule_id"),
            metric=_text(data, "metric"),
            value=_number(data, "value"),
            threshold=_number(data, "threshold"),
            direction=None if data.get("direction") is None else Direction(data["direction"]),
            message=_text(data, "message"),
            source_id=source_id,
            acknowledged_at=_moment(data, "acknowledged_at"),
            acknowledged_by=_text(data, "acknowledged_by"),
            note=_text(data, "note"),
            resolved_at=_moment(data, "resolved_at"),
            resolve_reason=(
                None
                if data.get("resolve_reason") is None
                else ResolveReason(data["resolve_reason"])
            ),
            resolved_by=_text(data, "resolved_by"),
        )
        if incident.kind is not IncidentKind.EXTERNAL and incident.rule_id is None:
            raise ValueError("a threshold or offline incident needs its rule_id")
        if (incident.resolved_at is None) == (incident.status is IncidentStatus.RESOLVED):
            raise ValueError("resolved_at and status disagree")
        return incident


_FIELDS: Final = tuple(item.name for item in dataclasses.fields(Incident))
# Longest stored instant read back ("2026-01-04T10:00:00.123456+00:00" is 32).
_MAX_ISO: Final = 64


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> Any:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number")
    return float(value)


def _moment(data: Mapping[str, Any], key: str, *, required: bool = False) -> Any:
    value = data.get(key)
    if value is None and not required:
        return None
    return parse_moment(value)


def parse_moment(value: object) -> datetime:
    """Read a stored ISO 8601 instant with its timezone, as UTC; ValueError otherwise."""
    if not isinstance(value, str) or len(value) > _MAX_ISO:
        raise ValueError("expected an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("an instant needs a timezone")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Change:
    """Something that happened to an incident: the phase and a snapshot after it."""

    phase: Phase
    incident: Incident
    previous_severity: Severity | None = None
