"""Errors with a machine-readable `key`, which the Home Assistant layer translates."""


class RuleError(ValueError):
    """An invalid rule; `key` is a config-flow error key, `field` the form field at fault."""

    def __init__(self, key: str, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.field = field_name


class IncidentError(Exception):
    """A person's request on an incident failed; `key` says why."""

    key = "incident_error"

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"{self.key}: {incident_id}")
        self.incident_id = incident_id


class IncidentNotFound(IncidentError):
    """No incident has that id (or it aged out of the history)."""

    key = "incident_not_found"


class IncidentAlreadyResolved(IncidentError):
    """The incident is resolved already."""

    key = "incident_already_resolved"


class IncidentAlreadyAcknowledged(IncidentError):
    """The incident is acknowledged already."""

    key = "incident_already_acknowledged"
