"""Incident rules as config subentries of a broker entry: read them, and the form to edit them."""

from collections.abc import Mapping
import contextlib
import logging
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigSubentryData,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import probatio

from ..const import DOMAIN
from ..core.incidents import DEFAULT_RULES, OfflineRule, Rule, RuleError
from ..core.incidents.rules import (
    offline_rule_from_dict,
    offline_rule_to_dict,
    rule_from_dict,
    rule_to_dict,
)
from ..core.local.metrics import METRICS
from ..identifiers import device_id_of, device_identifier

_LOGGER = logging.getLogger(__name__)

SUBENTRY_RULE: Final = "rule"
SUBENTRY_OFFLINE_RULE: Final = "offline_rule"
BOUND_FIELDS: Final = tuple(
    f"{severity}_{side}"
    for severity in ("warning", "critical", "emergency")
    for side in ("min", "max")
)


def default_rule_subentries() -> list[ConfigSubentryData]:
    """Return the users' thresholds (temperature 5-35 °C, humidity 20-80 %) as rules."""
    return [
        ConfigSubentryData(
            data=rule_to_dict(rule),
            subentry_type=SUBENTRY_RULE,
            title=rule.name or rule.metric,
            unique_id=None,
        )
        for rule in DEFAULT_RULES
    ]


def entry_rules(entry: ConfigEntry[Any]) -> tuple[list[Rule], list[OfflineRule]]:
    """Return the entry's rules from its subentries (unreadable ones skipped, logged)."""
    rules: list[Rule] = []
    offline: list[OfflineRule] = []
    for subentry in entry.subentries.values():
        try:
            if subentry.subentry_type == SUBENTRY_RULE:
                rules.append(rule_from_dict(subentry.data, rule_id=subentry.subentry_id))
            elif subentry.subentry_type == SUBENTRY_OFFLINE_RULE:
                offline.append(offline_rule_from_dict(subentry.data, rule_id=subentry.subentry_id))
        except RuleError as err:
            _LOGGER.warning("Incident rule %s of %s ignored: %s", subentry.title, entry.title, err)
    return rules, offline


def dump_rules(rules: list[Rule], offline: list[OfflineRule]) -> dict[str, Any]:
    """Return the rules in force, stored beside the incidents they opened."""
    return {
        "rules": [rule_to_dict(rule) for rule in rules],
        "offline_rules": [offline_rule_to_dict(rule) for rule in offline],
    }


def stored_rules(data: Mapping[str, Any]) -> tuple[list[Rule], list[OfflineRule]]:
    """Return the rules stored by `dump_rules` (unreadable ones skipped)."""
    rules: list[Rule] = []
    offline: list[OfflineRule] = []
    for item in data.get("rules") or ():
        with contextlib.suppress(RuleError, TypeError, AttributeError):
            rules.append(rule_from_dict(item))
    for item in data.get("offline_rules") or ():
        with contextlib.suppress(RuleError, TypeError, AttributeError):
            offline.append(offline_rule_from_dict(item))
    return rules, offline


def _number(*, minimum: float, maximum: float, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=minimum, max=maximum, step="any", mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def _device_field() -> DeviceSelector:
    return DeviceSelector(DeviceSelectorConfig(integration=DOMAIN))


def _rule_schema() -> probatio.Schema:
    fields: dict[Any, Any] = {
        probatio.Optional("name"): TextSelector(),
        probatio.Required("metric", default="temperature"): SelectSelector(
            SelectSelectorConfig(
                options=list(METRICS), translation_key="metric", mode=SelectSelectorMode.DROPDOWN
            )
        ),
        probatio.Optional("device"): _device_field(),
    }
    for name in BOUND_FIELDS:
        fields[probatio.Optional(name)] = _number(minimum=-100000, maximum=100000)
    fields[probatio.Required("hysteresis", default=0.5)] = _number(minimum=0, maximum=1000)
    fields[probatio.Required("min_duration", default=60)] = _number(
        minimum=0, maximum=86400, unit="s"
    )
    return probatio.Schema(fields)


def _offline_schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Optional("device"): _device_field(),
            probatio.Required("after", default=30): _number(minimum=1, maximum=10080, unit="min"),
            probatio.Required("severity", default="warning"): SelectSelector(
                SelectSelectorConfig(
                    options=["info", "warning", "critical", "emergency"],
                    translation_key="severity",
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )


class _RuleFlowBase(ConfigSubentryFlow):
    """Add or edit a rule; the device field holds a registry device, stored by its own id."""

    subentry_type: str

    def _schema(self) -> probatio.Schema:
        raise NotImplementedError

    def _to_data(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _title(self, data: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _device_id(self, registry_id: str | None) -> str | None:
        if not registry_id:
            return None
        device = dr.async_get(self.hass).async_get(registry_id)
        return (
            None if device is None else device_id_of(self._get_entry().entry_id, device.identifiers)
        )

    def _registry_id(self, device_id: str | None) -> str | None:
        if device_id is None:
            return None
        device = dr.async_get(self.hass).async_get_device(
            identifiers={device_identifier(self._get_entry().entry_id, device_id)}
        )
        return None if device is None else device.id

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a rule."""
        return await self._step("user", user_input, {})

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit a rule."""
        stored = self._form_values(self._get_reconfigure_subentry().data)
        stored["device"] = self._registry_id(stored.get("device_id"))
        return await self._step("reconfigure", user_input, stored)

    def _form_values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return dict(data)

    async def _step(
        self, step_id: str, user_input: dict[str, Any] | None, stored: Mapping[str, Any]
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._to_data(user_input)
            try:
                self._validate(data)
            except RuleError as err:
                errors[err.field or "base"] = f"rule_{err.key}"
            else:
                if step_id == "user":
                    return self.async_create_entry(title=self._title(data), data=data)
                return self.async_update_and_abort(
                    self._get_entry(),
                    self._get_reconfigure_subentry(),
                    title=self._title(data),
                    data=data,
                )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                self._schema(), dict(user_input or stored)
            ),
            errors=errors,
        )

    def _validate(self, data: Mapping[str, Any]) -> None:
        raise NotImplementedError


class RuleSubentryFlow(_RuleFlowBase):
    """A threshold rule: metric, bounds per severity, hysteresis, minimum duration."""

    def _schema(self) -> probatio.Schema:
        return _rule_schema()

    def _to_data(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        data = {name: user_input.get(name) for name in BOUND_FIELDS}
        return {
            **data,
            "name": (user_input.get("name") or "").strip() or None,
            "metric": user_input["metric"],
            "device_id": self._device_id(user_input.get("device")),
            "hysteresis": float(user_input.get("hysteresis") or 0),
            "min_duration": float(user_input.get("min_duration") or 0),
        }

    def _validate(self, data: Mapping[str, Any]) -> None:
        rule_from_dict(data)

    def _title(self, data: Mapping[str, Any]) -> str:
        name = data.get("name") or str(data["metric"]).replace("_", " ").capitalize()
        return f"{name} ({data['device_id']})" if data.get("device_id") else name


class OfflineRuleSubentryFlow(_RuleFlowBase):
    """An offline rule: a device silent or offline for longer than N minutes."""

    def _schema(self) -> probatio.Schema:
        return _offline_schema()

    def _to_data(self, user_input: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "device_id": self._device_id(user_input.get("device")),
            "after": float(user_input["after"]) * 60,
            "after_minutes": float(user_input["after"]),
            "severity": user_input.get("severity") or "warning",
        }

    def _validate(self, data: Mapping[str, Any]) -> None:
        offline_rule_from_dict(data)

    def _form_values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {**data, "after": data.get("after_minutes")}

    def _title(self, data: Mapping[str, Any]) -> str:
        minutes = f"{data['after_minutes']:g} min"
        return (
            f"Offline > {minutes} ({data['device_id']})"
            if data.get("device_id")
            else f"Offline > {minutes}"
        )
