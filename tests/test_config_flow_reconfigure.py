"""Config flow: reauth and reconfigure of an existing broker entry."""

from collections.abc import Callable
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.core.local.traffic import TrafficSample

from .broker import Mosquitto
from .certs import Pki
from .config_flow_helpers import assert_no_secret, broker_form, submit, suggested_values


def mtls_entry(make_entry: Callable[..., MockConfigEntry], broker: Mosquitto) -> MockConfigEntry:
    """An entry on the mutual-TLS listener, with a password stored as well."""
    pki = broker.pki
    return make_entry(
        port=broker.port_mtls,
        tls="custom",
        ca_pem=pki.ca_cert_pem,
        client_cert_pem=pki.client_cert_pem,
        client_key_pem=pki.client_key_pem,
    )


def key_secrets(pki: Pki) -> tuple[str, ...]:
    """The key as a whole and each line of its body (a partial copy is a leak too)."""
    return (pki.client_key_pem, *pki.client_key_pem.splitlines()[1:-1])


async def test_reauth(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(password="old")
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["broker"] == f"127.0.0.1:{mosquitto.port_password}"
    result = await submit(hass, result["flow_id"], {"username": "iot", "password": "still-wrong"})
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(
        hass, result["flow_id"], {"username": "iot", "password": mosquitto.password}
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
    result = await submit(
        hass, result["flow_id"], broker_form(mosquitto, port=mosquitto.port_tls, tls="custom")
    )
    assert result["step_id"] == "tls"
    result = await submit(
        hass, result["flow_id"], {"ca_pem": mosquitto.pki.ca_cert_pem, "verify_ssl": True}
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
    result = await submit(hass, result["flow_id"], broker_form(mosquitto, password="bad"))
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(hass, result["flow_id"], broker_form(mosquitto))
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
    result = await submit(hass, result["flow_id"], broker_form(mosquitto))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# ------------------------------------------------ secrets never go back to the browser


async def test_reauth_form_suggests_the_username_only(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    result = await entry.start_reauth_flow(hass)
    assert suggested_values(result) == {"username": mosquitto.username}
    assert_no_secret(result, mosquitto.password)


async def test_reconfigure_untouched_forms_keep_the_stored_secrets(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    """The user clicks through: what the browser got is what it sends back."""
    pki = mosquitto.pki
    entry = mtls_entry(make_entry, mosquitto)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    assert_no_secret(result, mosquitto.password, *key_secrets(pki))
    shown = suggested_values(result)
    assert shown["host"] == mosquitto.host
    assert shown["username"] == mosquitto.username
    assert "password" in shown  # a placeholder: the field shows that a password is set
    result = await submit(hass, result["flow_id"], shown)
    assert result["step_id"] == "tls"
    assert_no_secret(result, mosquitto.password, *key_secrets(pki))
    shown = suggested_values(result)
    # Certificates are public: shown so the user sees what is configured.
    assert shown == {
        "ca_pem": pki.ca_cert_pem,
        "verify_ssl": True,
        "client_cert_pem": pki.client_cert_pem,
    }
    # The key field is left empty: the stored key is kept (the listener requires it).
    result = await submit(hass, result["flow_id"], shown)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["client_key_pem"] == pki.client_key_pem
    assert entry.data["password"] == mosquitto.password
    await hass.async_block_till_done()


@pytest.mark.parametrize("untouched", [True, False], ids=["untouched", "cleared"])
async def test_reconfigure_keeps_the_stored_password(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    untouched: bool,
) -> None:
    pki = mosquitto.pki
    entry = make_entry(port=mosquitto.port_tls, tls="custom", ca_pem=pki.ca_cert_pem)
    result = await entry.start_reconfigure_flow(hass)
    # Untouched, the field sends back its placeholder; cleared, it sends nothing.
    password = suggested_values(result)["password"] if untouched else None
    form = broker_form(mosquitto, port=mosquitto.port_tls, tls="custom", password=password)
    result = await submit(hass, result["flow_id"], form)
    assert result["step_id"] == "tls"
    result = await submit(hass, result["flow_id"], {"ca_pem": pki.ca_cert_pem, "verify_ssl": True})
    # The TLS listener checks the password: the stored one was used.
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["password"] == mosquitto.password
    await hass.async_block_till_done()


async def test_reconfigure_new_password_replaces_the_stored_one(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(password="old-and-refused")
    result = await entry.start_reconfigure_flow(hass)
    assert_no_secret(result, "old-and-refused")
    # Left empty, the stored (refused) password is what the broker gets.
    result = await submit(hass, result["flow_id"], broker_form(mosquitto, password=None))
    assert result["errors"] == {"base": "invalid_auth"}
    assert_no_secret(result, "old-and-refused")
    result = await submit(hass, result["flow_id"], broker_form(mosquitto))
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["password"] == mosquitto.password
    await hass.async_block_till_done()


async def test_reconfigure_error_forms_carry_no_stored_secret(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    pki = mosquitto.pki
    entry = mtls_entry(make_entry, mosquitto)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass, result["flow_id"], {**suggested_values(result), "tls": "off", "port": 1}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert_no_secret(result, mosquitto.password, *key_secrets(pki))
    result = await submit(
        hass,
        result["flow_id"],
        suggested_values(result) | {"tls": "custom", "port": mosquitto.port_mtls},
    )
    assert result["step_id"] == "tls"
    # The stored key is kept for the attempt, and not shown again after it failed.
    result = await submit(
        hass,
        result["flow_id"],
        {
            "ca_pem": pki.wrong_ca_cert_pem,
            "verify_ssl": True,
            "client_cert_pem": pki.client_cert_pem,
        },
    )
    assert result["errors"] == {"base": "invalid_certificate"}
    assert_no_secret(result, mosquitto.password, *key_secrets(pki))


async def test_reconfigure_without_client_certificate_drops_the_key(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    pki = mosquitto.pki
    entry = mtls_entry(make_entry, mosquitto)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass, result["flow_id"], broker_form(mosquitto, port=mosquitto.port_tls, tls="custom")
    )
    result = await submit(hass, result["flow_id"], {"ca_pem": pki.ca_cert_pem, "verify_ssl": True})
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["client_cert_pem"] is None
    assert entry.data["client_key_pem"] is None
    await hass.async_block_till_done()


async def test_reconfigure_to_anonymous_drops_the_stored_password(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    """No user name, no password: the stored one is not kept for nobody."""
    entry = make_entry()
    result = await entry.start_reconfigure_flow(hass)
    tested: list[dict[str, Any]] = []

    async def accept(hass: HomeAssistant, data: dict[str, Any], listen: float) -> TrafficSample:
        tested.append(dict(data))
        return TrafficSample()

    # The test broker refuses anonymous clients: record what would be tried instead.
    with patch(
        "custom_components.iot_hub.broker.flow.async_test_connection", AsyncMock(side_effect=accept)
    ):
        result = await submit(
            hass, result["flow_id"], broker_form(mosquitto, username=None, password=None)
        )
    assert result["reason"] == "reconfigure_successful"
    assert tested[0]["username"] is None
    assert tested[0]["password"] is None
    assert entry.data["password"] is None
    await hass.async_block_till_done()
