"""Config flow: adding a broker over plain TCP and WebSockets, duplicates, options.

TLS is in test_config_flow_tls.py, reauth and reconfigure in test_config_flow_reconfigure.py.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .broker import Mosquitto
from .config_flow_helpers import (
    assert_no_secret,
    broker_form,
    start_broker_step,
    submit,
    suggested_values,
)
from .helpers import wait_for_value


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
    result = await submit(hass, result["flow_id"], broker_form(mosquitto, protocol=protocol))
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
    result = await submit(
        hass, result["flow_id"], broker_form(mosquitto, username=None, password=None)
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
    result = await submit(hass, result["flow_id"], form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await submit(hass, result["flow_id"], broker_form(mosquitto))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_timeout(hass: HomeAssistant, mosquitto: Mosquitto, silent_server: int) -> None:
    result = await start_broker_step(hass)
    with patch("custom_components.iot_hub.broker.connection.CONNECT_TIMEOUT", 0.3):
        result = await submit(hass, result["flow_id"], broker_form(mosquitto, port=silent_server))
    assert result["errors"] == {"base": "timeout"}


async def test_websockets(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await start_broker_step(hass)
    result = await submit(
        hass,
        result["flow_id"],
        broker_form(mosquitto, port=mosquitto.port_ws, transport="websockets"),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["transport"] == "websockets"


async def test_same_broker_and_user_refused(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    make_entry()
    result = await start_broker_step(hass)
    result = await submit(hass, result["flow_id"], broker_form(mosquitto))
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
        "home/dht11/incidents",
        "iot/sensors/+/data",
        "iot/devices/+/status",
        "iot/alerts/+",
    }
    await mosquitto.publish("home/dht11/sensor/data", '{"temperature":19,"humidity":45}')
    await wait_for_value(hass, "sensor.dht11_temperature", "19.0")


async def test_options_form_carries_no_secret(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    pki = mosquitto.pki
    entry = make_entry(client_cert_pem=pki.client_cert_pem, client_key_pem=pki.client_key_pem)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    assert_no_secret(result, mosquitto.password, pki.client_key_pem)
    # Options hold topics and timings only: nothing of the connection is suggested.
    assert not {"password", "client_key_pem", "username"} & set(suggested_values(result))
