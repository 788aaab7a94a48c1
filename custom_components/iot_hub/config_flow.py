"""Config flow of IoT Hub: menu, MQTT broker or ThermoMaven account, reauth, reconfigure."""

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.core import callback

from .broker import mqtt_integration
from .broker.flow import BrokerFlowMixin
from .broker.flow_forms import SECRET_FIELDS
from .broker.options_flow import IotHubOptionsFlow
from .const import DOMAIN
from .incidents.rules import (
    SUBENTRY_OFFLINE_RULE,
    SUBENTRY_RULE,
    OfflineRuleSubentryFlow,
    RuleSubentryFlow,
)
from .runtime import CONF_KIND, EntryKind, IotHubConfigEntry
from .thermomaven.flow import ThermoMavenFlowMixin


def _is_thermomaven(data: Mapping[str, Any]) -> bool:
    return data.get(CONF_KIND) == EntryKind.THERMOMAVEN


class IotHubConfigFlow(BrokerFlowMixin, ThermoMavenFlowMixin, ConfigFlow, domain=DOMAIN):
    """Add an MQTT broker or a ThermoMaven account to IoT Hub."""

    VERSION = 1
    MINOR_VERSION = 3

    def __init__(self) -> None:
        self._init_broker_flow()

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
        """Ask what to add: the MQTT integration's broker first, when there is one."""
        options = ["broker", "thermomaven"]
        placeholders = {"mqtt_broker": ""}
        if (entry := mqtt_integration.mqtt_integration_entry(self.hass)) is not None:
            options.insert(0, "mqtt_integration")
            placeholders["mqtt_broker"] = mqtt_integration.broker_address(entry.data)
        return self.async_show_menu(
            step_id="user", menu_options=options, description_placeholders=placeholders
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change any connection setting of an existing broker (or an account's country)."""
        if _is_thermomaven(self._get_reconfigure_entry().data):
            return await self.async_step_thermomaven_reconfigure()
        if user_input is None and not self._data:
            self._data = dict(self._get_reconfigure_entry().data)
            self._stored_secrets = {key: self._data.get(key) for key in SECRET_FIELDS}
        return await self._broker_step("reconfigure", user_input)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start reauth: the broker or the cloud refused the stored credentials."""
        if _is_thermomaven(entry_data):
            return await self.async_step_thermomaven_reauth()
        return await self.async_step_reauth_confirm()
