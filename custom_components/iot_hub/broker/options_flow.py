"""A broker entry's options form, and the topic-family fields the setup shares with it."""

from collections.abc import Mapping
import re
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
)
import probatio

from ..const import (
    CONF_AVAILABILITY_GRACE,
    CONF_CLEAN_SESSION,
    CONF_DEVICE_ID_PATTERN,
    CONF_EVENT_OFF_DELAY,
    CONF_MAX_DEVICES,
    CONF_OFFLINE_TIMEOUT,
    CONF_PUBLISH_INCIDENTS,
    DEFAULT_AVAILABILITY_GRACE,
    DEFAULT_EVENT_OFF_DELAY,
    DEFAULT_MAX_DEVICES,
    DEFAULT_OFFLINE_TIMEOUT,
    MAX_MAX_DEVICES,
    conf_base,
    conf_enabled,
)
from ..core.local.topics import DEFAULT_BASES, valid_base
from .flow_forms import number_field


def family_fields() -> dict[Any, Any]:
    """Return the on/off switch and base topic of each family (all on, default bases)."""
    fields: dict[Any, Any] = {}
    for family, base in DEFAULT_BASES.items():
        fields[probatio.Required(conf_enabled(family), default=True)] = BooleanSelector()
        fields[probatio.Required(conf_base(family), default=base)] = TextSelector()
    return fields


def check_bases(user_input: dict[str, Any]) -> dict[str, str]:
    """Normalise the base topics in `user_input` (no outer slashes); return field errors."""
    errors: dict[str, str] = {}
    for family in DEFAULT_BASES:
        base = str(user_input.get(conf_base(family), "")).strip().strip("/")
        user_input[conf_base(family)] = base
        if not valid_base(base):
            errors[conf_base(family)] = "invalid_base_topic"
    return errors


def _options_schema() -> probatio.Schema:
    fields = family_fields()
    fields[probatio.Required(CONF_OFFLINE_TIMEOUT, default=DEFAULT_OFFLINE_TIMEOUT)] = number_field(
        1, 1440, "min"
    )
    fields[probatio.Required(CONF_EVENT_OFF_DELAY, default=DEFAULT_EVENT_OFF_DELAY)] = number_field(
        1, 3600, "s"
    )
    fields[probatio.Required(CONF_PUBLISH_INCIDENTS, default=True)] = BooleanSelector()
    fields[probatio.Required(CONF_CLEAN_SESSION, default=False)] = BooleanSelector()
    fields[probatio.Required(CONF_AVAILABILITY_GRACE, default=DEFAULT_AVAILABILITY_GRACE)] = (
        number_field(0, 3600, "s")
    )
    fields[probatio.Required(CONF_MAX_DEVICES, default=DEFAULT_MAX_DEVICES)] = number_field(
        1, MAX_MAX_DEVICES
    )
    fields[probatio.Optional(CONF_DEVICE_ID_PATTERN)] = TextSelector()
    return probatio.Schema(fields)


def _valid_pattern(pattern: str) -> bool:
    """Whether `pattern` is a regular expression Python can use."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


class IotHubOptionsFlow(OptionsFlow):
    """Topic families and behaviour of a broker entry."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = check_bases(user_input)
            # Allowed device ids: empty means any; otherwise a regex ids must fully match.
            pattern = str(user_input.pop(CONF_DEVICE_ID_PATTERN, None) or "").strip()
            if pattern:
                user_input[CONF_DEVICE_ID_PATTERN] = pattern
                if not _valid_pattern(pattern):
                    errors[CONF_DEVICE_ID_PATTERN] = "invalid_device_id_pattern"
            if not errors:
                return self.async_create_entry(data=user_input)
        suggested: Mapping[str, Any] = user_input or self.config_entry.options
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(_options_schema(), suggested),
            errors=errors,
        )
