"""Config flow, TLS screen: custom and system CA, verification, client certificates."""

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations

from .broker import Mosquitto
from .config_flow_helpers import DOMAIN, submit, tls_step

BOM = "\ufeff"


async def test_tls_custom_ca(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await tls_step(hass, mosquitto, mosquitto.port_tls, "custom")
    # The wrong CA: the broker cannot be verified.
    result = await submit(
        hass, result["flow_id"], {"ca_pem": mosquitto.pki.wrong_ca_cert_pem, "verify_ssl": True}
    )
    assert result["errors"] == {"base": "invalid_certificate"}
    # Not a certificate at all.
    result = await submit(hass, result["flow_id"], {"ca_pem": "not a pem", "verify_ssl": True})
    assert result["errors"] == {"ca_pem": "invalid_ca"}
    result = await submit(
        hass, result["flow_id"], {"ca_pem": mosquitto.pki.ca_cert_pem, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["ca_pem"] == mosquitto.pki.ca_cert_pem
    assert result["data"]["tls"] == "custom"


async def test_tls_system_ca_insecure(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    result = await tls_step(hass, mosquitto, mosquitto.port_tls, "system")
    assert "ca_pem" not in result["data_schema"].schema
    result = await submit(hass, result["flow_id"], {"verify_ssl": True})
    # Our test CA is not a system CA.
    assert result["errors"] == {"base": "invalid_certificate"}
    result = await submit(hass, result["flow_id"], {"verify_ssl": False})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["verify_ssl"] is False


async def test_tls_client_certificate(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    pki = mosquitto.pki
    result = await tls_step(hass, mosquitto, mosquitto.port_mtls, "custom")
    result = await submit(hass, result["flow_id"], {"ca_pem": pki.ca_cert_pem, "verify_ssl": True})
    # The listener requires a client certificate: its alert says so.
    assert result["errors"] == {"client_cert_pem": "client_cert_required"}
    result = await submit(
        hass,
        result["flow_id"],
        {
            "ca_pem": pki.ca_cert_pem,
            "verify_ssl": True,
            "client_cert_pem": "garbage",
            "client_key_pem": pki.client_key_pem,
        },
    )
    assert result["errors"] == {"client_cert_pem": "invalid_client_cert"}
    result = await submit(
        hass,
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


async def test_tls_non_ascii_pem_shows_the_field_error(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    """Text pasted from a web page or a Windows file: a BOM, a dash, an accent."""
    pki = mosquitto.pki
    errors = await async_get_translations(hass, "en", "config", [DOMAIN])
    good = {
        "ca_pem": pki.ca_cert_pem,
        "verify_ssl": True,
        "client_cert_pem": pki.client_cert_pem,
        "client_key_pem": pki.client_key_pem,
    }
    result = await tls_step(hass, mosquitto, mosquitto.port_mtls, "custom")
    for field, spoiled, expected in (
        ("ca_pem", "# Our CA — production\n" + pki.ca_cert_pem, {"ca_pem": "invalid_ca"}),
        ("ca_pem", BOM + pki.ca_cert_pem, {"ca_pem": "invalid_ca"}),
        (
            "client_cert_pem",
            "Café sensor\n" + pki.client_cert_pem,
            {"client_cert_pem": "invalid_client_cert"},
        ),
        # Key problems are reported like every other pair problem (see TLS_FAILURES).
        ("client_key_pem", BOM + pki.client_key_pem, {"client_cert_pem": "invalid_client_cert"}),
    ):
        result = await submit(hass, result["flow_id"], {**good, field: spoiled})
        assert result["type"] is FlowResultType.FORM, field
        assert result["step_id"] == "tls"
        assert result["errors"] == expected, field
        for key in expected.values():
            assert errors[f"component.{DOMAIN}.config.error.{key}"], key
    result = await submit(hass, result["flow_id"], good)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
