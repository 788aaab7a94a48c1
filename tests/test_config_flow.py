"""Config flow: every path against the real broker's four listeners."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .broker import Mosquitto
from .helpers import wait_for_value

DOMAIN = "iot_hub"


def broker_form(broker: Mosquitto, port: int | None = None, **overrides: Any) -> dict[str, Any]:
    """What a user types on the broker screen for the password listener."""
    form: dict[str, Any] = {
        "host": broker.host,
        "port": port or broker.port_password,
        "transport": "tcp",
        "ws_path": "/mqtt",
        "tls": "off",
        "username": broker.username,
        "password": broker.password,
        "keepalive": 60,
        "protocol": "3.1.1",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


async def start_broker_step(hass: HomeAssistant) -> FlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["broker"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "broker"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "broker"
    return result


@pytest.fixture
async def silent_server(socket_enabled: None) -> AsyncIterator[int]:
    """A TCP server that accepts and never answers (a broker that hangs)."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_user_flow_creates_entry(
    hass: HomeAssistant, mosquitto: Mosquitto, protocol: str
) -> None:
    result = await start_broker_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto, protocol=protocol)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"127.0.0.1:{mosquitto.port_password}"
    data = result["data"]
    assert data["client_id"].startswith("iot_hub-")
    assert len(data["client_id"]) == len("iot_hub-") + 10
    assert data["protocol"] == protocol
    # Optional fields are stored explicitly so duplicate matching works.
    assert data["ca_pem"] is None
    assert data["client_cert_pem"] is None
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.runtime_data.client.connected
    assert entry.runtime_data.client.settings.client_id == data["client_id"]


async def test_anonymous_user_is_stored_as_none(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await start_broker_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto, username=None, password=None)
    )
    # The listener refuses anonymous clients: the user sees why.
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password": "wrong"}, "invalid_auth"),
        ({"port": 1}, "cannot_connect"),
        ({"host": "127.0.0.1", "transport": "websockets", "port": None}, "cannot_connect"),
    ],
)
async def test_broker_errors_then_recover(
    hass: HomeAssistant, mosquitto: Mosquitto, overrides: dict[str, Any], error: str
) -> None:
    result = await start_broker_step(hass)
    form = broker_form(mosquitto, **overrides)
    if overrides.get("transport") == "websockets":
        form["port"] = mosquitto.port_password  # websockets spoken to a TCP listener
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_timeout(hass: HomeAssistant, mosquitto: Mosquitto, silent_server: int) -> None:
    result = await start_broker_step(hass)
    with patch("custom_components.iot_hub.broker.connection.CONNECT_TIMEOUT", 0.3):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], broker_form(mosquitto, port=silent_server)
        )
    assert result["errors"] == {"base": "timeout"}


async def test_websockets(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await start_broker_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto, port=mosquitto.port_ws, transport="websockets")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["transport"] == "websockets"


async def _tls_step(hass: HomeAssistant, broker: Mosquitto, port: int, mode: str) -> FlowResult:
    result = await start_broker_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(broker, port=port, tls=mode)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tls"
    return result


async def test_tls_custom_ca(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await _tls_step(hass, mosquitto, mosquitto.port_tls, "custom")
    # The wrong CA: the broker cannot be verified.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ca_pem": mosquitto.pki.wrong_ca_cert_pem, "verify_ssl": True}
    )
    assert result["errors"] == {"base": "invalid_certificate"}
    # Not a certificate at all.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ca_pem": "not a pem", "verify_ssl": True}
    )
    assert result["errors"] == {"ca_pem": "invalid_ca"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ca_pem": mosquitto.pki.ca_cert_pem, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["ca_pem"] == mosquitto.pki.ca_cert_pem
    assert result["data"]["tls"] == "custom"


async def test_tls_system_ca_insecure(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await _tls_step(hass, mosquitto, mosquitto.port_tls, "system")
    assert "ca_pem" not in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"verify_ssl": True})
    # Our test CA is not a system CA.
    assert result["errors"] == {"base": "invalid_certificate"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"verify_ssl": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["verify_ssl"] is False


async def test_tls_client_certificate(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    pki = mosquitto.pki
    result = await _tls_step(hass, mosquitto, mosquitto.port_mtls, "custom")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ca_pem": pki.ca_cert_pem, "verify_ssl": True}
    )
    # The listener requires a client certificate: the handshake is cut.
    assert result["errors"] == {"base": "tls_error"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "ca_pem": pki.ca_cert_pem,
            "verify_ssl": True,
            "client_cert_pem": "garbage",
            "client_key_pem": pki.client_key_pem,
        },
    )
    assert result["errors"] == {"client_cert_pem": "invalid_client_cert"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "ca_pem": pki.ca_cert_pem,
            "verify_ssl": True,
            "client_cert_pem": pki.client_cert_pem,
            "client_key_pem": pki.client_key_pem,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.runtime_data.client.connected
    key_file = entry.runtime_data.tls_dir / "client.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    # Removing the entry deletes the key material.
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not key_file.exists()


async def test_same_broker_and_user_refused(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    make_entry()
    result = await start_broker_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(password="old")
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["broker"] == f"127.0.0.1:{mosquitto.port_password}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "iot", "password": "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "iot", "password": mosquitto.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["password"] == mosquitto.password
    await hass.async_block_till_done()


async def test_reconfigure_keeps_client_id(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    assert await hass.config_entries.async_setup(entry.entry_id)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto, port=mosquitto.port_tls, tls="custom")
    )
    assert result["step_id"] == "tls"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ca_pem": mosquitto.pki.ca_cert_pem, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["port"] == mosquitto.port_tls
    assert entry.data["client_id"] == "iot_hub-0123456789"
    assert entry.runtime_data.client.connected
    assert entry.runtime_data.client.settings.tls.ca_pem == mosquitto.pki.ca_cert_pem


async def test_reconfigure_errors_and_back_to_plain(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(tls="custom", port=mosquitto.port_tls, ca_pem=mosquitto.pki.ca_cert_pem)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto, password="bad")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto)
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["tls"] == "off"
    assert entry.data["ca_pem"] is None
    await hass.async_block_till_done()


async def test_reconfigure_onto_another_entry_refused(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    make_entry()
    other = make_entry(port=mosquitto.port_ws, transport="websockets")
    result = await other.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_flow_reloads_with_new_options(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    assert await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    options = {
        "dht11_enabled": True,
        "dht11_base": "home/dht11",
        "events_enabled": False,
        "events_base": "sensor",
        "iot_enabled": True,
        "iot_base": "iot",
        "offline_timeout": 5,
        "event_off_delay": 10,
        "clean_session": True,
        "availability_grace": 5,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**options, "iot_base": "iot/+/x"}
    )
    assert result["errors"] == {"iot_base": "invalid_base_topic"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**options, "dht11_base": "/home/dht11/"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["dht11_base"] == "home/dht11"
    await hass.async_block_till_done()
    hub = entry.runtime_data
    assert hub.grace == 5
    assert hub.off_delay == 10
    assert hub.client.settings.clean_session is True
    assert hub.client.connected
    # The new base topic is what is subscribed; the events family is off.
    assert set(hub.client.subscriptions) == {
        "home/dht11/sensor/data",
        "home/dht11/status",
        "iot/sensors/+/data",
        "iot/devices/+/status",
        "iot/alerts/+",
    }
    await mosquitto.publish("home/dht11/sensor/data", '{"temperature":19,"humidity":45}')
    await wait_for_value(hass, "sensor.dht11_temperature", "19.0")
