"""Config flow steps of an MQTT broker, reauth and reconfigure.

The settings are typed in, copied from Home Assistant's MQTT integration, or offered by its
discovery; certificates are uploaded or pasted; the connection test runs as progress and
listens a few seconds, so that the topic families are suggested from the traffic seen.
"""

import asyncio
from typing import Any, Final

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import probatio

from ..const import (
    CONF_CA_PEM,
    CONF_CLIENT_CERT_PEM,
    CONF_CLIENT_ID,
    CONF_CLIENT_KEY_PEM,
    CONF_TLS,
    conf_enabled,
)
from ..core.local.common import quote
from ..core.local.topics import DEFAULT_BASES
from ..core.local.traffic import TrafficSample
from ..core.mqtt.errors import ConnectFailure
from ..core.mqtt.settings import TlsMode
from ..incidents.rules import default_rule_subentries
from ..runtime import CONF_KIND, EntryKind
from . import mqtt_integration
from .connection import async_test_connection, broker_address, broker_name, new_client_id
from .flow_forms import (
    BROKER_SCHEMA,
    FILE_FIELDS,
    KEEP_PASSWORD,
    OPTIONAL_BROKER_FIELDS,
    OPTIONAL_TLS_FIELDS,
    REAUTH_SCHEMA,
    SECRET_FIELDS,
    TLS_FAILURES,
    async_read_uploads,
    tls_schema,
)
from .options_flow import check_bases, family_fields

# Seconds the setup listens to the broker before suggesting topic families.
LISTEN_SECONDS: Final = 3.0


class BrokerFlowMixin(ConfigFlow):
    """The broker steps of IoT Hub's config flow."""

    _data: dict[str, Any]
    # The secrets of the entry being changed (or copied): kept when left empty, never shown.
    _stored_secrets: dict[str, Any]
    _errors: dict[str, str]
    _connect_task: asyncio.Task[ConnectFailure | TrafficSample] | None
    _sample: TrafficSample | None
    _discovered_topic: str | None

    def _init_broker_flow(self) -> None:
        self._data = {}
        self._stored_secrets = {}
        self._errors = {}
        self._connect_task = None
        self._sample = None
        self._discovered_topic = None

    # --- where the settings come from --------------------------------------------------

    async def async_step_broker(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Broker address, credentials and protocol."""
        return await self._broker_step("broker", user_input)

    async def async_step_mqtt_integration(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm using the broker of Home Assistant's MQTT integration."""
        return await self._mqtt_confirm_step("mqtt_integration", user_input)

    async def async_step_mqtt(self, discovery_info: MqttServiceInfo) -> ConfigFlowResult:
        """Offer the MQTT integration's broker: it carried a message of an IoT Hub family."""
        if (entry := mqtt_integration.mqtt_integration_entry(self.hass)) is None:
            return self.async_abort(reason="mqtt_not_configured")
        data = mqtt_integration.broker_data(entry.data)
        await self.async_set_unique_id(mqtt_integration.unique_id_for(entry))
        # An entry made from this broker follows its address (discovery-update-info).
        self._abort_if_unique_id_configured(updates=broker_address(data))
        self._async_abort_entries_match(broker_address(data))
        self._discovered_topic = discovery_info.topic
        self.context["title_placeholders"] = {"name": mqtt_integration.broker_address(entry.data)}
        return await self.async_step_mqtt_confirm()

    async def async_step_mqtt_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before adding the broker discovery found."""
        return await self._mqtt_confirm_step("mqtt_confirm", user_input)

    async def _mqtt_confirm_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        if (entry := mqtt_integration.mqtt_integration_entry(self.hass)) is None:
            return self.async_abort(reason="mqtt_not_configured")
        if user_input is not None:
            if self.unique_id is None:
                await self.async_set_unique_id(
                    mqtt_integration.unique_id_for(entry), raise_on_progress=False
                )
                self._abort_if_unique_id_configured()
            data = mqtt_integration.broker_data(entry.data)
            self._async_abort_entries_match(broker_address(data))
            self._data = data
            # Copied secrets are kept, never shown: a form coming back shows placeholders.
            self._stored_secrets = {key: data.get(key) for key in SECRET_FIELDS}
            return await self.async_step_connect()
        return self.async_show_form(
            step_id=step_id,
            description_placeholders={
                "broker": mqtt_integration.broker_address(entry.data),
                "username": entry.data.get(CONF_USERNAME) or "-",
                # A topic is the sender's text: shown short and printable.
                "topic": quote(self._discovered_topic or "", limit=100, cap=200),
            },
        )

    async def _broker_step(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        if user_input is not None:
            self._data.update(dict.fromkeys(OPTIONAL_BROKER_FIELDS))
            self._data.update(user_input)
            if self._data[CONF_PASSWORD] in (None, KEEP_PASSWORD):
                # Left empty or untouched: the stored password, if there is a user to go with.
                stored = self._stored_secrets.get(CONF_PASSWORD)
                self._data[CONF_PASSWORD] = stored if self._data[CONF_USERNAME] else None
            self._async_abort_entries_match(
                broker_address(self._data) | {CONF_USERNAME: self._data[CONF_USERNAME]}
            )
            if TlsMode(self._data[CONF_TLS]) is not TlsMode.OFF:
                return await self.async_step_tls()
            self._data.update(dict.fromkeys(OPTIONAL_TLS_FIELDS))
            self._data[CONF_VERIFY_SSL] = True
            return await self.async_step_connect()
        errors, self._errors = self._errors, {}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(BROKER_SCHEMA, self._suggested()),
            errors=errors,
        )

    async def async_step_tls(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Certificates (uploaded or pasted): CA to trust, verification, client pair."""
        errors, self._errors = self._errors, {}
        mode = TlsMode(self._data[CONF_TLS])
        if user_input is not None:
            previous_key = self._data.get(CONF_CLIENT_KEY_PEM)
            uploads, errors = await async_read_uploads(self.hass, user_input)
            fields = {key: value for key, value in user_input.items() if key not in FILE_FIELDS}
            self._data.update(dict.fromkeys(OPTIONAL_TLS_FIELDS))
            self._data.update(fields | uploads)
            if self._data[CONF_CLIENT_CERT_PEM] and not self._data[CONF_CLIENT_KEY_PEM]:
                # Key left empty: the one given before (stored, copied or typed in this flow).
                self._data[CONF_CLIENT_KEY_PEM] = previous_key or self._stored_secrets.get(
                    CONF_CLIENT_KEY_PEM
                )
            if mode is TlsMode.CUSTOM_CA and not self._data[CONF_CA_PEM] and not errors:
                errors.setdefault(CONF_CA_PEM, "ca_required")
            if not errors:
                return await self.async_step_connect()
        return self.async_show_form(
            step_id="tls",
            data_schema=self.add_suggested_values_to_schema(tls_schema(mode), self._suggested()),
            errors=errors,
        )

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new user name and password."""
        entry = self._get_reauth_entry()
        if user_input is not None:
            self._data = {**entry.data, **dict.fromkeys(OPTIONAL_BROKER_FIELDS), **user_input}
            return await self.async_step_connect()
        errors, self._errors = self._errors, {}
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                REAUTH_SCHEMA, {CONF_USERNAME: entry.data.get(CONF_USERNAME)}
            ),
            errors=errors,
            description_placeholders={"broker": broker_name(entry.data)},
        )

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

    # --- the connection test, then the families ------------------------------------------

    @property
    def _creating(self) -> bool:
        return self.source not in (SOURCE_RECONFIGURE, SOURCE_REAUTH)

    async def async_step_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Test the settings in the background (up to 10 s), then listen a few seconds."""
        if self._connect_task is None:
            self._connect_task = self.hass.async_create_task(
                async_test_connection(
                    self.hass, dict(self._data), listen=LISTEN_SECONDS if self._creating else 0
                ),
                "iot_hub connection test",
            )
        if not self._connect_task.done():
            return self.async_show_progress(
                step_id="connect",
                progress_action="connect",
                progress_task=self._connect_task,
                description_placeholders={
                    "broker": broker_name(self._data),
                    "seconds": f"{LISTEN_SECONDS:g}",
                },
            )
        result, self._connect_task = self._connect_task.result(), None
        if isinstance(result, ConnectFailure):
            return self.async_show_progress_done(next_step_id=self._failed_step(result))
        self._sample = result
        return self.async_show_progress_done(
            next_step_id="families" if self._creating else "finish"
        )

    def _failed_step(self, failure: ConnectFailure) -> str:
        """Return the form that shows `failure` (the error set on the field to change)."""
        if self.source == SOURCE_REAUTH:
            step_id = "reauth_confirm"
        elif TlsMode(self._data[CONF_TLS]) is not TlsMode.OFF and failure in TLS_FAILURES:
            self._errors = {TLS_FAILURES[failure]: failure.value}
            return "tls"
        else:
            step_id = "reconfigure" if self.source == SOURCE_RECONFIGURE else "broker"
        self._errors = {"base": failure.value}
        return step_id

    async def async_step_families(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which topic families to follow, pre-set from the traffic just seen."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = check_bases(user_input)
            if not errors:
                return self._create(user_input)
        sample = self._sample or TrafficSample()
        seen = sample.seen
        suggested: dict[str, Any] = user_input or {
            conf_enabled(family): family in seen if seen else True for family in DEFAULT_BASES
        }
        placeholders = {"seconds": f"{LISTEN_SECONDS:g}"}
        for family, traffic in sample.families.items():
            placeholders[f"{family}_messages"] = str(traffic.messages)
            placeholders[f"{family}_topics"] = str(traffic.topic_count)
        return self.async_show_form(
            step_id="families",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(family_fields()), suggested
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_finish(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Save the tested settings of a reconfigured or re-authenticated entry."""
        if self.source == SOURCE_REAUTH:
            return self.async_update_reload_and_abort(self._get_reauth_entry(), data=self._data)
        entry = self._get_reconfigure_entry()
        unique_id = entry.unique_id
        if unique_id is not None and not self._on_mqtt_integration_broker():
            unique_id = None  # moved to another broker: discovery must not move it back
        # The client id survives reconfigure: the persistent session is keyed on it.
        return self.async_update_reload_and_abort(entry, data=self._data, unique_id=unique_id)

    def _on_mqtt_integration_broker(self) -> bool:
        """Tell whether the flow's host and port are the MQTT integration's."""
        if (entry := mqtt_integration.mqtt_integration_entry(self.hass)) is None:
            return False
        address = broker_address(mqtt_integration.broker_data(entry.data))
        return address == broker_address(self._data)

    def _create(self, options: dict[str, Any]) -> ConfigFlowResult:
        self._data[CONF_CLIENT_ID] = new_client_id()
        self._data[CONF_KIND] = EntryKind.BROKER.value
        return self.async_create_entry(
            title=broker_name(self._data),
            data=self._data,
            options=options,
            subentries=default_rule_subentries(),
        )
