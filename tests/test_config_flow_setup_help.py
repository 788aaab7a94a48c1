"""The setup helps: progress while connecting, families suggested from traffic, uploads."""

from http import HTTPStatus
import json
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .broker import Mosquitto
from .config_flow_helpers import broker_form, configure, start_broker_step, suggested_values
from .helpers import wait_for_value


async def test_connection_test_shows_progress_then_suggests_families(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    # A DHT11 and an IoT platform device publish (retained: they are there when IoT Hub
    # listens); nothing on the event topics.
    await mosquitto.publish(
        "dht11/sensor/data", json.dumps({"temperature": 21.5, "humidity": 40}), retain=True
    )
    await mosquitto.publish("iot/sensors/esp32-a/data", '{"temperature": 20}', retain=True)
    await mosquitto.publish("iot/devices/esp32-a/status", "online", retain=True)
    await mosquitto.publish("unrelated/topic", "x", retain=True)
    result = await start_broker_step(hass)
    progress = await hass.config_entries.flow.async_configure(
        result["flow_id"], broker_form(mosquitto)
    )
    assert progress["type"] is FlowResultType.SHOW_PROGRESS
    assert progress["progress_action"] == "connect"
    assert progress["description_placeholders"] == {
        "broker": f"{mosquitto.host}:{mosquitto.port_password}",
        "seconds": "0.3",  # 3 outside the tests (see conftest.py)
    }
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "families"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert {key: placeholders[key] for key in placeholders if key != "seconds"} == {
        "dht11_messages": "1",
        "dht11_topics": "1",
        "events_messages": "0",
        "events_topics": "0",
        "iot_messages": "2",
        "iot_topics": "2",
    }
    suggested = suggested_values(result)
    assert (suggested["dht11_enabled"], suggested["events_enabled"]) == (True, False)
    assert suggested["iot_enabled"] is True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**suggested, "dht11_base": "dht11", "events_base": "sensor"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.options["events_enabled"] is False
    assert entry.options["dht11_enabled"] is True
    # The entry follows what was chosen: the DHT11 reading makes its sensor, the events
    # family is not subscribed.
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await wait_for_value(hass, "sensor.dht11_temperature", "21.5")


async def test_quiet_broker_suggests_every_family(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    result = await start_broker_step(hass)
    result = await configure(hass, result["flow_id"], broker_form(mosquitto))
    assert result["step_id"] == "families"
    suggested = suggested_values(result)
    assert [suggested[f"{family}_enabled"] for family in ("dht11", "events", "iot")] == [
        True,
        True,
        True,
    ]


async def test_families_form_refuses_a_wildcard_base(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    result = await start_broker_step(hass)
    result = await configure(hass, result["flow_id"], broker_form(mosquitto))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**suggested_values(result), "iot_base": "iot/#"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"iot_base": "invalid_base_topic"}


async def _upload(client: Any, name: str, content: bytes) -> str:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name)
    response = await client.post("/api/file_upload", data=form)
    assert response.status == HTTPStatus.OK
    return str((await response.json())["file_id"])


@pytest.fixture
async def uploads(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> Any:
    """An HTTP client of Home Assistant's file upload (as the browser's file field uses)."""
    assert await async_setup_component(hass, "file_upload", {})
    return await hass_client()


async def test_certificates_uploaded_as_files(
    hass: HomeAssistant, mosquitto: Mosquitto, uploads: Any
) -> None:
    pki = mosquitto.pki
    # The CA as a DER file (converted), the client pair as PEM files.
    ca_der = x509.load_pem_x509_certificate(pki.ca_cert_pem.encode()).public_bytes(Encoding.DER)
    result = await start_broker_step(hass)
    result = await configure(
        hass, result["flow_id"], broker_form(mosquitto, port=mosquitto.port_mtls, tls="custom")
    )
    assert result["step_id"] == "tls"
    result = await configure(
        hass,
        result["flow_id"],
        {
            "ca_file": await _upload(uploads, "ca.der", ca_der),
            "verify_ssl": True,
            "client_cert_file": await _upload(uploads, "client.crt", pki.client_cert_pem.encode()),
            "client_key_file": await _upload(uploads, "client.key", pki.client_key_pem.encode()),
        },
    )
    assert result["step_id"] == "families"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], suggested_values(result)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert x509.load_pem_x509_certificate(
        data["ca_pem"].encode()
    ) == x509.load_pem_x509_certificate(pki.ca_cert_pem.encode())
    assert data["client_cert_pem"].strip() == pki.client_cert_pem.strip()
    assert data["client_key_pem"].strip() == pki.client_key_pem.strip()
    assert not any(key.endswith("_file") for key in data)


@pytest.mark.parametrize(
    "content",
    [b"not a certificate", b"-----BEGIN CERTIFICATE-----\n" + b"A" * 600_000],
    ids=["garbage", "too_large"],
)
async def test_unreadable_upload_is_a_field_error(
    hass: HomeAssistant, mosquitto: Mosquitto, uploads: Any, content: bytes
) -> None:
    result = await start_broker_step(hass)
    result = await configure(
        hass, result["flow_id"], broker_form(mosquitto, port=mosquitto.port_tls, tls="custom")
    )
    result = await configure(
        hass,
        result["flow_id"],
        {"ca_file": await _upload(uploads, "ca.pem", content), "verify_ssl": True},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tls"
    assert result["errors"] == {"ca_file": "invalid_file"}


async def test_custom_ca_without_one_is_asked_for(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    result = await start_broker_step(hass)
    result = await configure(
        hass, result["flow_id"], broker_form(mosquitto, port=mosquitto.port_tls, tls="custom")
    )
    result = await configure(hass, result["flow_id"], {"verify_ssl": True})
    assert result["errors"] == {"ca_pem": "ca_required"}
