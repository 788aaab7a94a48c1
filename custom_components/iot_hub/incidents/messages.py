"""Sentences about an incident in the user's language, for events, phones and the logbook."""

from collections.abc import Mapping

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from ..const import DOMAIN
from ..core.incidents import Change, Incident, IncidentKind, Phase, ResolveReason

UNITS: Mapping[str, str] = {
    "temperature": "°C",
    "humidity": "%",
    "battery": "%",
    "rssi": "dBm",
    "signal_quality": "%",
    "heart_rate": "bpm",
    "spo2": "%",
    "pressure": "hPa",
    "glucose": "mg/dL",
    "uptime": "s",
}


class IncidentWording:
    """Templates from the integration's translations (category `exceptions`)."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self._templates = templates

    @classmethod
    async def async_load(cls, hass: HomeAssistant) -> IncidentWording:
        """Load the templates of Home Assistant's language (English as fallback)."""
        prefix = f"component.{DOMAIN}.exceptions."
        english = await async_get_translations(hass, "en", "exceptions", [DOMAIN])
        local = await async_get_translations(hass, hass.config.language, "exceptions", [DOMAIN])
        merged = {**english, **local}
        return cls(
            {
                key.removeprefix(prefix).removesuffix(".message"): text
                for key, text in merged.items()
                if key.startswith(prefix) and key.endswith(".message")
            }
        )

    def _format(self, key: str, **values: str) -> str:
        template = self._templates.get(key, key)
        try:
            return template.format(**values)
        except KeyError, IndexError, ValueError:
            return template

    def message(self, change: Change, device_name: str) -> str:
        """Return one sentence: what happened to which device, value, threshold, severity."""
        incident = change.incident
        severity = self._format(f"severity_{incident.severity.value}")
        what = self._what(incident, resolved=change.phase is Phase.RESOLVED)
        return self._format(
            f"incident_{change.phase.value}",
            device=device_name,
            what=what,
            severity=severity,
            by=incident.acknowledged_by or incident.resolved_by or "",
        )

    def title(self, change: Change, device_name: str) -> str:
        """Return a short title, e.g. for a phone notification."""
        return self._format(f"incident_title_{change.phase.value}", device=device_name)

    def _what(self, incident: Incident, *, resolved: bool = False) -> str:
        reason = incident.resolve_reason
        if resolved and reason in (ResolveReason.PERSON, ResolveReason.SOURCE):
            return self._format(f"incident_what_{reason.value}", by=incident.resolved_by or "")
        if resolved and reason is ResolveReason.RULE_REMOVED:
            return self._format("incident_what_rule_removed")
        if incident.kind is IncidentKind.OFFLINE:
            return self._format("incident_what_online" if resolved else "incident_what_offline")
        if incident.kind is IncidentKind.EXTERNAL or incident.value is None:
            return incident.message or self._format("incident_what_reported")
        unit = UNITS.get(incident.metric or "", "")
        value = f"{incident.value:g} {unit}".strip()
        threshold = (
            f"{incident.threshold:g} {unit}".strip() if incident.threshold is not None else "?"
        )
        key = "incident_what_low" if incident.direction == "low" else "incident_what_high"
        if resolved:
            key = "incident_what_back"
        metric = self._format(f"metric_{incident.metric}") if incident.metric else ""
        return self._format(key, metric=metric, value=value, threshold=threshold)
