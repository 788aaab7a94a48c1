"""Config flow of IoT Hub: menu, MQTT broker or ThermoMaven account, reauth, reconfigure."""

from collections.abc import Mapping
import re
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .broker.connection import async_test_connection, new_client_id
from .const import (
    CONF_AVAILABILITY_GRACE,
    CONF_CA_PEM,
    CONF_CLEAN_SESSION,
    CONF_CLIENT_CERT_PEM,
    CONF_CLIENT_ID,
    CONF_CLIENT_KEY_PEM,
    CONF_DEVICE_ID_PATTERN,
    CONF_EVENT_OFF_DELAY,
    CONF_KEEPALIVE,
    CONF_MAX_DEVICES,
    CONF_OFFLINE_TIMEOUT,
    CONF_PROTOCOL,
    CONF_PUBLISH_INCIDENTS,
    CONF_TLS,
    CONF_TRANSPORT,
    CONF_WS_PATH,
    DEFAULT_AVAILABILITY_GRACE,
    DEFAULT_EVENT_OFF_DELAY,
    DEFAULT_KEEPALIVE,
    DEFAULT_MAX_DEVICES,
    DEFAULT_OFFLINE_TIMEOUT,
    DEFAULT_PORT,
    DEFAULT_WS_PATH,
    DOMAIN,
    MAX_MAX_DEVICES,
    conf_base,
    conf_enabled,
)
from .core.local.topics import DEFAULT_BASES, valid_base
from .core.mqtt.errors import ConnectFailure
from .core.mqtt.settings import Protocol, TlsMode, Transport
from .incidents.rules import (
    SUBENTRY_OFFLINE_RULE,
    SUBENTRY_RULE,
    OfflineRuleSubentryFlow,
    RuleSubentryFlow,
    default_rule_subentries,
)
from .runtime import CONF_KIND, EntryKind, IotHubConfigEntry
from .thermomaven.flow import ThermoMavenFlowMixin

# Errors that belong to the TLS step (the user fixes them there), on the field to change.
# The broker's certificate (unverifiable, or expired: its administrator must renew it)
# and other TLS failures concern no field.
TLS_FAILURES = {
    ConnectFailure.INVALID_CA: CONF_CA_PEM,
    ConnectFailure.INVALID_CLIENT_CERT: CONF_CLIENT_CERT_PEM,
    ConnectFailure.CLIENT_CERT_EXPIRED: CONF_CLIENT_CERT_PEM,
    ConnectFailure.CLIENT_CERT_REJECTED: CONF_CLIENT_CERT_PEM,
    ConnectFailure.CLIENT_CERT_REQUIRED: CONF_CLIENT_CERT_PEM,
    ConnectFailure.INVALID_CERTIFICATE: "base",
    ConnectFailure.CERTIFICATE_EXPIRED: "base",
    ConnectFailure.TLS_ERROR: "base",
}
# Optional fields are stored explicitly as None: entry matching needs the key.
OPTIONAL_BROKER_FIELDS = (CONF_USERNAME, CONF_PASSWORD)
OPTIONAL_TLS_FIELDS = (CONF_CA_PEM, CONF_CLIENT_CERT_PEM, CONF_CLIENT_KEY_PEM)
# Stored secrets never go back to the browser. The reconfigure form shows this in the
# password field instead (as Home Assistant's MQTT integration does); sent back untouched,
# or the field left empty, it keeps the stored password. The key field is left empty.
KEEP_PASSWORD = "__**password_not_changed**__"  # noqa: S105 (a placeholder, not a password)
SECRET_FIELDS = (CONF_PASSWORD, CONF_CLIENT_KEY_PEM)

_PEM = TextSelector(TextSelectorConfig(multiline=True))


def _select(options: list[str], key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=options, translation_key=key, mode=SelectSelectorMode.DROPDOWN)
    )


BROKER_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_HOST): TextSelector(),
        probatio.Required(CONF_PORT, default=DEFAULT_PORT): probatio.All(
            NumberSelector(NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)),
            probatio.Coerce(int),
        ),
        probatio.Required(CONF_TRANSPORT, default=Transport.TCP.value): _select(
            [t.value for t in Transport], CONF_TRANSPORT
        ),
        probatio.Optional(CONF_WS_PATH, default=DEFAULT_WS_PATH): TextSelector(),
        probatio.Required(CONF_TLS, default=TlsMode.OFF.value): _select(
            [m.value for m in TlsMode], CONF_TLS
        ),
        probatio.Optional(CONF_USERNAME): TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username")
        ),
        probatio.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
        ),
        probatio.Required(CONF_KEEPALIVE, default=DEFAULT_KEEPALIVE): probatio.All(
            NumberSelector(
                NumberSelectorConfig(
                    min=5, max=3600, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
                )
            ),
            probatio.Coerce(int),
        ),
        probatio.Required(CONF_PROTOCOL, default=Protocol.V311.value): _select(
            [p.value for p in Protocol], CONF_PROTOCOL
        ),
    }
)

REAUTH_SCHEMA = probatio.Schema(
    {
        probatio.Optional(CONF_USERNAME): BROKER_SCHEMA.schema[CONF_USERNAME],
        probatio.Optional(CONF_PASSWORD): BROKER_SCHEMA.schema[CONF_PASSWORD],
    }
)


def _tls_schema(mode: TlsMode) -> probatio.Schema:
    fields: dict[Any, Any] = {}
    if mode is TlsMode.CUSTOM_CA:
        fields[probatio.Required(CONF_CA_PEM)] = _PEM
    fields[probatio.Required(CONF_VERIFY_SSL, default=True)] = BooleanSelector()
    fields[probatio.Optional(CONF_CLIENT_CERT_PEM)] = _PEM
    fields[probatio.Optional(CONF_CLIENT_KEY_PEM)] = _PEM
    return probatio.Schema(fields)


def _is_thermomaven(data: Mapping[str, Any]) -> bool:
    return data.get(CONF_KIND) == EntryKind.THERMOMAVEN


class IotHubConfigFlow(ThermoMavenFlowMixin, ConfigFlow, domain=DOMAIN):
    """Add an MQTT broker or a ThermoMaven account to IoT Hub."""

    VERSION = 1
    MINOR_VERSION = 3

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        # The secrets of the entry being reconfigured: kept when left empty, never shown.
        self._stored_secrets: dict[str, Any] = {}

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry[Any]
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Incident rules: thresholds and offline, added and edited on the entry's page."""
        if _is_thermomaven(config_entry.data):
            return {}  # Incident rules are broker-only for now.
        return {SUBENTRY_RULE: RuleSubentryFlow, SUBENTRY_OFFLINE_RULE: OfflineRuleSubentryFlow}

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: IotHubConfigEntry) -> IotHubOptionsFlow:
        """Options: session and availability behaviour."""
        return IotHubOptionsFlow()

    @classmethod
    @callback
    @override
    def async_supports_options_flow(cls, config_entry: ConfigEntry[Any]) -> bool:
        """Options are a broker's topic families and behaviour: none for an account."""
        return not _is_thermomaven(config_entry.data)

    @override
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask what to add."""
        return self.async_show_menu(step_id="user", menu_options=["broker", "thermomaven"])

    async def async_step_broker(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Broker address, credentials and protocol."""
        return await self._broker_step("broker", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change any connection setting of an existing broker (or an account's country)."""
        if _is_thermomaven(self._get_reconfigure_entry().data):
            return await self.async_step_thermomaven_reconfigure()
        if user_input is None:
            self._data = dict(self._get_reconfigure_entry().data)
            self._stored_secrets = {key: self._data.get(key) for key in SECRET_FIELDS}
        return await self._broker_step("reconfigure", user_input)

    def _suggested(self) -> dict[str, Any]:
        """Return the flow's values to pre-fill, without the stored secrets.

        What the user typed in this flow may be shown back to them; the stored password
        becomes the placeholder and the stored key is left out.
        """
        suggested = {
            key: value
            for key, value in self._data.items()
            if key not in SECRET_FIELDS
            or (value is not None and value != self._stored_secrets.get(key))
        }
        if self._stored_secrets.get(CONF_PASSWORD) is not None:
            suggested.setdefault(CONF_PASSWORD, KEEP_PASSWORD)
        return suggested

    async def _broker_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            self._data.update(dict.fromkeys(OPTIONAL_BROKER_FIELDS))
            self._data.update(user_input)
            if self._data[CONF_PASSWORD] in (None, KEEP_PASSWORD):
                # Left empty or untouched: the stored password, if there is a user to go with.
                stored = self._stored_secrets.get(CONF_PASSWORD)
                self._data[CONF_PASSWORD] = stored if self._data[CONF_USERNAME] else None
            self._async_abort_entries_match(
                {key: self._data[key] for key in (CONF_HOST, CONF_PORT, CONF_USERNAME)}
            )
            if TlsMode(self._data[CONF_TLS]) is not TlsMode.OFF:
                return await self.async_step_tls()
            self._data.update(dict.fromkeys(OPTIONAL_TLS_FIELDS))
            self._data[CONF_VERIFY_SSL] = True
            if (failure := await async_test_connection(self.hass, self._data)) is None:
                return self._finish()
            errors["base"] = failure.value
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(BROKER_SCHEMA, self._suggested()),
            errors=errors,
        )

    async def async_step_tls(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Certificates: CA to trust, verification, client certificate and key."""
        errors: dict[str, str] = {}
        mode = TlsMode(self._data[CONF_TLS])
        if user_input is not None:
            self._data.update(dict.fromkeys(OPTIONAL_TLS_FIELDS))
            self._data.update(user_input)
            if self._data[CONF_CLIENT_CERT_PEM] and not self._data[CONF_CLIENT_KEY_PEM]:
                # Key left empty: the stored one. Without a certificate, no key is kept.
                self._data[CONF_CLIENT_KEY_PEM] = self._stored_secrets.get(CONF_CLIENT_KEY_PEM)
            if (failure := await async_test_connection(self.hass, self._data)) is None:
                return self._finish()
            errors[TLS_FAILURES.get(failure, "base")] = failure.value
        return self.async_show_form(
            step_id="tls",
            data_schema=self.add_suggested_values_to_schema(_tls_schema(mode), self._suggested()),
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauth: the broker or the cloud refused the stored credentials."""
        if _is_thermomaven(entry_data):
            return await self.async_step_thermomaven_reauth()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new user name and password."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, **dict.fromkeys(OPTIONAL_BROKER_FIELDS), **user_input}
            if (failure := await async_test_connection(self.hass, data)) is None:
                return self.async_update_reload_and_abort(entry, data=data)
            errors["base"] = failure.value
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                REAUTH_SCHEMA, {CONF_USERNAME: entry.data.get(CONF_USERNAME)}
            ),
            errors=errors,
            description_placeholders={"broker": f"{entry.data[CONF_HOST]}:{entry.data[CONF_PORT]}"},
        )

    def _finish(self) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            # The client id survives reconfigure: the persistent session is keyed on it.
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data=self._data
            )
        self._data[CONF_CLIENT_ID] = new_client_id()
        self._data[CONF_KIND] = EntryKind.BROKER.value
        return self.async_create_entry(
            title=f"{self._data[CONF_HOST]}:{self._data[CONF_PORT]}",
            data=self._data,
            subentries=default_rule_subentries(),
        )


def _seconds(minimum: int, maximum: int, unit: str = "s") -> probatio.All[Any]:
    return probatio.All(
        NumberSelector(
            NumberSelectorConfig(
                min=minimum, max=maximum, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
            )
        ),
        probatio.Coerce(int),
    )


def _options_schema() -> probatio.Schema:
    fields: dict[Any, Any] = {}
    for family, base in DEFAULT_BASES.items():
        fields[probatio.Required(conf_enabled(family), default=True)] = BooleanSelector()
        fields[probatio.Required(conf_base(family), default=base)] = TextSelector()
    fields[probatio.Required(CONF_OFFLINE_TIMEOUT, default=DEFAULT_OFFLINE_TIMEOUT)] = _seconds(
        1, 1440, "min"
    )
    fields[probatio.Required(CONF_EVENT_OFF_DELAY, default=DEFAULT_EVENT_OFF_DELAY)] = _seconds(
        1, 3600
    )
    fields[probatio.Required(CONF_PUBLISH_INCIDENTS, default=True)] = BooleanSelector()
    fields[probatio.Required(CONF_CLEAN_SESSION, default=False)] = BooleanSelector()
    fields[probatio.Required(CONF_AVAILABILITY_GRACE, default=DEFAULT_AVAILABILITY_GRACE)] = (
        _seconds(0, 3600)
    )
    fields[probatio.Required(CONF_MAX_DEVICES, default=DEFAULT_MAX_DEVICES)] = probatio.All(
        NumberSelector(
            NumberSelectorConfig(min=1, max=MAX_MAX_DEVICES, mode=NumberSelectorMode.BOX)
        ),
        probatio.Coerce(int),
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
            for family in DEFAULT_BASES:
                base = str(user_input.get(conf_base(family), "")).strip().strip("/")
                user_input[conf_base(family)] = base
                if not valid_base(base):
                    errors[conf_base(family)] = "invalid_base_topic"
            # Allowed device ids: empty means any; otherwise a regex ids must fully match.
            pattern = str(user_input.pop(CONF_DEVICE_ID_PATTERN, None) or "").strip()
            if pattern:
                user_input[CONF_DEVICE_ID_PATTERN] = pattern
                if not _valid_pattern(pattern):
                    errors[CONF_DEVICE_ID_PATTERN] = "invalid_device_id_pattern"
            if not errors:
                return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(), user_input or self.config_entry.options
            ),
            errors=errors,
        )
