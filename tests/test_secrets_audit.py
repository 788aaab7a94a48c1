"""Secrets audit: no password, key or certificate leaves the entry through any user-visible sink.

Every secret is a string found nowhere else: the MQTT password is a marker (the
broker is given it as its real password so the connection works), the TLS
material is the test PKI's, searched for by the base64 lines of its body (a
partial copy is a leak too). The sinks: the log at DEBUG, the diagnostics
download, every state and attribute, every event on the bus, repair issues and
every flow result returned to the browser.
"""

import asyncio
from collections.abc import Callable, Iterable
import json
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .broker import Mosquitto
from .config_flow_helpers import assert_no_secret, submit, suggested_values
from .helpers import (
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    ESP32_TOPIC,
    broker_connection,
    hub_sensor,
    wait_for_value,
)

DOMAIN = "iot_hub"
PW_MARKER = "pw-MARKER-7f3a-accepted"
WRONG_PW_MARKER = "pw-MARKER-91c2-refused"
RETRY_PW_MARKER = "pw-MARKER-c4d8-retyped"
PAYLOAD_MARKER = "payload-MARKER-5e0b"


def pem_lines(pem: str) -> tuple[str, ...]:
    """The PEM's base64 body lines: each one is unique to that PEM."""
    return tuple(line for line in pem.splitlines()[1:-1] if len(line) >= 32)


async def use_password(broker: Mosquitto, password: str) -> None:
    """Make `password` the broker's real password for its user (restart on the same ports)."""
    broker.kill()
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_passwd", "-b", str(broker.password_file), broker.username, password
    )
    assert await proc.wait() == 0
    broker.password = password  # instance attribute: the CLIs publish with it
    broker.restart()


class Sinks:
    """Everything a user, a log reader or an automation can see."""

    def __init__(self, hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> None:
        self.hass = hass
        self.caplog = caplog
        self.events: list[str] = []
        self.flow_results: list[str] = []
        self.diagnostics: list[str] = []
        caplog.set_level(logging.DEBUG, logger="custom_components.iot_hub")
        caplog.set_level(logging.DEBUG)

        @callback
        def record(event: Event) -> None:
            self.events.append(f"{event.event_type} {json.dumps(event.data, default=repr)}")

        self.unsub = hass.bus.async_listen(MATCH_ALL, record)

    def flow(self, result: ConfigFlowResult) -> ConfigFlowResult:
        """Keep what the browser receives."""
        self.flow_results.append(json.dumps(_browser_view(result), default=repr))
        return result

    async def download(
        self, hass_client: ClientSessionGenerator, entry: MockConfigEntry
    ) -> dict[str, Any]:
        diag = await get_diagnostics_for_config_entry(self.hass, hass_client, entry)
        self.diagnostics.append(json.dumps(diag, default=repr))
        return diag

    def assert_clean(self, secrets: Iterable[str], *, in_flows: Iterable[str] = ()) -> None:
        """No secret in any sink (`in_flows`: the ones forms must not show either)."""
        states = [
            json.dumps(state.as_dict(), default=repr) for state in self.hass.states.async_all()
        ]
        issues = [repr(issue) for issue in ir.async_get(self.hass).issues.values()]
        sinks = {
            "log": [self.caplog.text],
            "diagnostics": self.diagnostics,
            "states": states,
            "events": self.events,
            "repair issues": issues,
        }
        for secret in secrets:
            for name, texts in sinks.items():
                for text in texts:
                    assert secret not in text, f"{secret!r} leaked into {name}: {text[:300]}"
        for secret in in_flows:
            for text in self.flow_results:
                assert secret not in text, f"{secret!r} leaked into a flow result: {text[:300]}"


def _browser_view(result: ConfigFlowResult) -> dict[str, Any]:
    """The parts of a flow result serialised to the frontend, schema suggestions included."""
    view = {key: value for key, value in result.items() if key not in ("data_schema", "result")}
    if result.get("type") is FlowResultType.FORM and result.get("data_schema") is not None:
        view["suggested"] = suggested_values(result)
        view["defaults"] = [
            marker.default()
            for marker in result["data_schema"].schema
            if callable(getattr(marker, "default", None))
        ]
    # A created or aborted flow never sends entry data; make sure we'd notice if it did.
    return view


async def test_password_never_leaks(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sinks = Sinks(hass, caplog)
    await use_password(mosquitto, PW_MARKER)
    conn = broker_connection(mosquitto)

    # A failing setup: the broker refuses the stored password, a reauth starts.
    entry = make_entry(password=WRONG_PW_MARKER)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"

    # The reauth form, a refused retry, then the right password.
    result = sinks.flow(await submit(hass, flow["flow_id"]))
    assert result["step_id"] == "reauth_confirm"
    assert_no_secret(result, WRONG_PW_MARKER, PW_MARKER)
    result = sinks.flow(
        await submit(
            hass, flow["flow_id"], {"username": mosquitto.username, "password": RETRY_PW_MARKER}
        )
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert_no_secret(result, WRONG_PW_MARKER, RETRY_PW_MARKER, PW_MARKER)
    result = sinks.flow(
        await submit(hass, flow["flow_id"], {"username": mosquitto.username, "password": PW_MARKER})
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()

    # The successful setup (the reload after reauth): readings flow.
    assert entry.state is ConfigEntryState.LOADED
    await wait_for_value(hass, conn, "on")
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")

    # Rejected messages carrying a password in their payload.
    rejected = hub_sensor(mosquitto, "rejected_messages")
    await mosquitto.publish(
        ESP32_TOPIC,
        f'{{"device_id": "ESP32_001", "temperature": "hot", "password": "{PAYLOAD_MARKER}"}}',
    )
    await wait_for_value(hass, rejected, "1")
    await mosquitto.publish(DHT11_TOPIC, f'{{"password": "{PAYLOAD_MARKER}", "temperature":')
    await wait_for_value(hass, rejected, "2")

    # A reconnect.
    mosquitto.kill()
    await wait_for_value(hass, conn, "off")
    mosquitto.restart()
    await wait_for_value(hass, conn, "on")

    # The reconfigure form, left untouched: it keeps the stored password without showing it.
    result = sinks.flow(await entry.start_reconfigure_flow(hass))
    assert result["step_id"] == "reconfigure"
    assert_no_secret(result, PW_MARKER)
    result = sinks.flow(await submit(hass, result["flow_id"], suggested_values(result)))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["password"] == PW_MARKER
    await hass.async_block_till_done()
    await wait_for_value(hass, conn, "on")

    # A reauth form on a working entry.
    result = sinks.flow(await entry.start_reauth_flow(hass))
    assert_no_secret(result, PW_MARKER)
    hass.config_entries.flow.async_abort(result["flow_id"])

    diag = await sinks.download(hass_client, entry)
    assert diag["runtime"]["connected"] is True
    assert "payload-MARKER" not in sinks.diagnostics[0]

    sinks.assert_clean(
        (PW_MARKER, WRONG_PW_MARKER, RETRY_PW_MARKER, PAYLOAD_MARKER),
        in_flows=(PW_MARKER, WRONG_PW_MARKER, RETRY_PW_MARKER),
    )
    # The audit saw something: the log has DEBUG lines of ours, events were recorded.
    assert any(
        r.name.startswith("custom_components.iot_hub") and r.levelno == logging.DEBUG
        for r in caplog.records
    )
    assert any(event.startswith("state_changed") for event in sinks.events)


async def test_tls_material_never_leaks(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Mutual TLS: the CA, the client certificate and key, and a password stored too."""
    sinks = Sinks(hass, caplog)
    pki = mosquitto.pki
    key = pem_lines(pki.client_key_pem)
    certificates = (*pem_lines(pki.ca_cert_pem), *pem_lines(pki.client_cert_pem))
    assert key
    assert certificates
    entry = make_entry(
        port=mosquitto.port_mtls,
        tls="custom",
        ca_pem=pki.ca_cert_pem,
        client_cert_pem=pki.client_cert_pem,
        client_key_pem=pki.client_key_pem,
        # The listener takes the certificate's identity: the password is never checked.
        password=PW_MARKER,
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # The hub device is named after the listener it connects to.
    (conn,) = (
        entity_id
        for entity_id in hass.states.async_entity_ids("binary_sensor")
        if entity_id.endswith("_broker_connection")
    )
    await wait_for_value(hass, conn, "on")
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")

    # A reconnect over TLS.
    mosquitto.kill()
    await wait_for_value(hass, conn, "off")
    mosquitto.restart()
    await wait_for_value(hass, conn, "on")

    # Reconfigure: the broker screen, then the TLS screen (certificates are public there,
    # the key and the password are not), left untouched.
    result = sinks.flow(await entry.start_reconfigure_flow(hass))
    assert_no_secret(result, PW_MARKER, *key)
    result = sinks.flow(await submit(hass, result["flow_id"], suggested_values(result)))
    assert result["step_id"] == "tls"
    assert_no_secret(result, PW_MARKER, *key)
    result = sinks.flow(await submit(hass, result["flow_id"], suggested_values(result)))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["client_key_pem"] == pki.client_key_pem
    await hass.async_block_till_done()
    await wait_for_value(hass, conn, "on")

    result = sinks.flow(await entry.start_reauth_flow(hass))
    assert_no_secret(result, PW_MARKER, *key, *certificates)
    hass.config_entries.flow.async_abort(result["flow_id"])

    await sinks.download(hass_client, entry)
    sinks.assert_clean((PW_MARKER, *key, *certificates), in_flows=(PW_MARKER, *key))
    assert any(event.startswith("state_changed") for event in sinks.events)
