"""Default rules and the flat dict form rules are stored and edited in.

The flat form is what a Home Assistant options form produces: one key per
number (`warning_min`, `critical_max`...), absent or None for an open side.
"""

from collections.abc import Mapping
import math
from typing import Any, Final

from ..local.common import valid_device_id
from ..local.metrics import metric_for
from .errors import RuleError
from .models import SEVERITIES, Bounds, OfflineRule, Rule, Severity

__all__ = [
    "DEFAULT_RULES",
    "RuleError",
    "offline_rule_from_dict",
    "offline_rule_to_dict",
    "rule_from_dict",
    "rule_to_dict",
]

# Seed 000's Django thresholds (MQTT_TEMP_MIN/MAX, MQTT_HUM_MIN/MAX), as warnings.
# Hysteresis is a little above a DHT11's resolution and noise (1 °C / ±1 °C,
# 1 % / ±5 %) halved: a value hovering at the bound does not flap. One minute
# of persistence ignores single glitched reads (DHT11s return some) while
# still alerting well before a room freezes or a cellar gets damp.
DEFAULT_MIN_DURATION: Final = 60.0
DEFAULT_RULES: Final[tuple[Rule, ...]] = (
    Rule(
        id="default_temperature",
        metric="temperature",
        device_id=None,
        bounds={Severity.WARNING: Bounds(5.0, 35.0)},
        hysteresis=0.5,
        min_duration=DEFAULT_MIN_DURATION,
        name="Temperature",
    ),
    Rule(
        id="default_humidity",
        metric="humidity",
        device_id=None,
        bounds={Severity.WARNING: Bounds(20.0, 80.0)},
        hysteresis=2.0,
        min_duration=DEFAULT_MIN_DURATION,
        name="Humidity",
    ),
)

_MAX_TEXT: Final = 128
_MAX_NUMBER_TEXT: Final = 32


def _number(data: Mapping[str, Any], key: str) -> float | None:
    """Read a form number: None/"" for unset, numbers or numeric text; else RuleError."""
    value = data.get(key)
    if value is None or value == "":
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and len(value) <= _MAX_NUMBER_TEXT:
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise RuleError("invalid_number", f"{key} is not a number", key)
    return number


def _device_id(data: Mapping[str, Any]) -> str | None:
    value = data.get("device_id")
    if value is None or value == "":
        return None
    device_id = valid_device_id(value)
    if device_id is None:
        raise RuleError("invalid_device_id", "device_id cannot name a device", "device_id")
    return device_id


def _name(data: Mapping[str, Any]) -> str | None:
    value = data.get("name")
    if not isinstance(value, str):
        return None
    return value.strip()[:_MAX_TEXT] or None


def _id(data: Mapping[str, Any], rule_id: str | None, default: str) -> str:
    if rule_id:
        return rule_id
    value = data.get("id")
    if isinstance(value, str) and value.strip():
        return value.strip()[:_MAX_TEXT]
    return default


def rule_from_dict(data: Mapping[str, Any], *, rule_id: str | None = None) -> Rule:
    """Build a rule from its flat form; raise `RuleError` (with `key`, `field`) if invalid.

    The id is `rule_id`, else `data["id"]`, else `{metric}_{device_id or "all"}`.
    Absent hysteresis and min_duration mean 0 (the form supplies its defaults).
    """
    metric = metric_for(data.get("metric"))
    if metric is None:
        raise RuleError("unknown_metric", "unknown metric", "metric")
    device_id = _device_id(data)
    bounds: dict[Severity, Bounds] = {}
    for severity in SEVERITIES:
        low, high = _number(data, f"{severity}_min"), _number(data, f"{severity}_max")
        if low is None and high is None:
            continue
        try:
            bounds[severity] = Bounds(low, high)
        except RuleError as err:
            raise RuleError(err.key, str(err), f"{severity}_min") from None
    if not bounds:
        raise RuleError("no_bounds", "set at least one bound")
    enabled = data.get("enabled", True)
    return Rule(
        id=_id(data, rule_id, f"{metric.key}_{device_id or 'all'}"),
        metric=metric.key,
        device_id=device_id,
        bounds=bounds,
        hysteresis=_number(data, "hysteresis") or 0.0,
        min_duration=_number(data, "min_duration") or 0.0,
        enabled=enabled if isinstance(enabled, bool) else True,
        name=_name(data),
    )


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """Return the flat, JSON-safe form of a rule (`rule_from_dict` reads it back)."""
    data: dict[str, Any] = {"id": rule.id, "metric": rule.metric, "device_id": rule.device_id}
    for severity in SEVERITIES:
        bounds = rule.bounds.get(severity)
        data[f"{severity}_min"] = None if bounds is None else bounds.min
        data[f"{severity}_max"] = None if bounds is None else bounds.max
    data |= {
        "hysteresis": rule.hysteresis,
        "min_duration": rule.min_duration,
        "enabled": rule.enabled,
        "name": rule.name,
    }
    return data


def offline_rule_from_dict(data: Mapping[str, Any], *, rule_id: str | None = None) -> OfflineRule:
    """Build an offline rule from `{"id", "device_id", "after", "severity"}`."""
    device_id = _device_id(data)
    after = _number(data, "after")
    if after is None:
        raise RuleError("invalid_number", "after is required", "after")
    try:
        severity = Severity(data.get("severity") or Severity.WARNING)
    except ValueError:
        raise RuleError("unknown_severity", "unknown severity", "severity") from None
    return OfflineRule(
        id=_id(data, rule_id, f"offline_{device_id or 'all'}"),
        device_id=device_id,
        after=after,
        severity=severity,
    )


def offline_rule_to_dict(rule: OfflineRule) -> dict[str, Any]:
    """Return the JSON-safe form of an offline rule."""
    return {
        "id": rule.id,
        "device_id": rule.device_id,
        "after": rule.after,
        "severity": str(rule.severity),
    }
