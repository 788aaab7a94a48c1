"""Home Assistant's MQTT integration as a source of broker settings (reuse and discovery).

Its entry stores the broker's address, credentials and TLS material (decrypted PEM); IoT
Hub copies them into its own entry, connecting with its own client and client id.
"""

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant

from ..const import (
    CONF_CA_PEM,
    CONF_CLIENT_CERT_PEM,
    CONF_CLIENT_KEY_PEM,
    CONF_KEEPALIVE,
    CONF_PROTOCOL,
    CONF_TLS,
    CONF_TRANSPORT,
    CONF_WS_PATH,
    DEFAULT_KEEPALIVE,
    DEFAULT_PORT,
    DEFAULT_WS_PATH,
)
from ..core.mqtt.settings import Protocol, TlsMode, Transport
from .connection import broker_name

MQTT_DOMAIN: Final = "mqtt"
# Entries set up from the MQTT integration carry this unique id: its discovery finds them
# again, and keeps their address in step with that integration's.
UNIQUE_ID_PREFIX: Final = "mqtt_integration:"


def mqtt_integration_entry(hass: HomeAssistant) -> ConfigEntry[Any] | None:
    """Return the MQTT integration's entry, if one is set up with a broker."""
    for entry in hass.config_entries.async_entries(
        MQTT_DOMAIN, include_ignore=False, include_disabled=False
    ):
        if entry.data.get("broker"):
            return entry
    return None


def unique_id_for(entry: ConfigEntry[Any]) -> str:
    """Return the unique id of an IoT Hub entry that uses `entry`'s broker."""
    return f"{UNIQUE_ID_PREFIX}{entry.entry_id}"


def broker_address(data: Mapping[str, Any]) -> str:
    """Return "host:port" of the MQTT integration's broker."""
    return broker_name(broker_data(data))


def broker_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Map the MQTT integration's entry data to IoT Hub's broker fields."""
    certificate = data.get("certificate")
    if certificate == "auto":
        tls, ca_pem = TlsMode.SYSTEM_CA, None
    elif certificate:
        tls, ca_pem = TlsMode.CUSTOM_CA, str(certificate)
    else:
        tls, ca_pem = TlsMode.OFF, None
    with_tls = tls is not TlsMode.OFF
    return {
        CONF_HOST: str(data["broker"]),
        CONF_PORT: int(data.get("port", DEFAULT_PORT)),
        CONF_USERNAME: data.get("username") or None,
        CONF_PASSWORD: data.get("password") or None,
        CONF_TRANSPORT: Transport.WEBSOCKETS.value
        if data.get("transport") == Transport.WEBSOCKETS
        else Transport.TCP.value,
        CONF_WS_PATH: data.get("ws_path") or DEFAULT_WS_PATH,
        CONF_TLS: tls.value,
        CONF_CA_PEM: ca_pem,
        # "tls_insecure" there skips the host name check; IoT Hub's switch skips both checks.
        CONF_VERIFY_SSL: not data.get("tls_insecure", False),
        CONF_CLIENT_CERT_PEM: (data.get("client_cert") or None) if with_tls else None,
        CONF_CLIENT_KEY_PEM: (data.get("client_key") or None) if with_tls else None,
        CONF_KEEPALIVE: int(data.get("keepalive", DEFAULT_KEEPALIVE)),
        # IoT Hub speaks 3.1.1 and 5: a broker set to 3.1 there is tried with 3.1.1.
        CONF_PROTOCOL: (Protocol.V5 if str(data.get("protocol")) == "5" else Protocol.V311).value,
    }
