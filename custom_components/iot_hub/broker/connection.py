"""Map config-entry data to broker settings, and the config flow's connection test."""

import asyncio
from collections.abc import Mapping
import logging
from pathlib import Path
import secrets
import shutil
import tempfile
from typing import Any

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
    DEFAULT_WS_PATH,
)
from ..core.local.traffic import TrafficSample
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import ConnectFailure, MqttConnectError, MqttError
from ..core.mqtt.settings import BrokerSettings, Protocol, TlsMode, TlsSettings, Transport

_LOGGER = logging.getLogger(__name__)

# Seconds to wait for the broker's CONNACK when testing settings.
CONNECT_TIMEOUT = 10.0


def new_client_id() -> str:
    """Return a fresh MQTT client id (stored once per entry)."""
    return f"iot_hub-{secrets.token_hex(5)}"


def broker_name(data: Mapping[str, Any]) -> str:
    """Return the broker's address as shown to the user ("host:port")."""
    return f"{data[CONF_HOST]}:{data[CONF_PORT]}"


def broker_address(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the host and port of entry (or flow) data: what tells brokers apart."""
    return {CONF_HOST: data[CONF_HOST], CONF_PORT: data[CONF_PORT]}


def broker_settings(
    data: Mapping[str, Any], *, client_id: str, tls_dir: Path | None, clean_session: bool
) -> BrokerSettings:
    """Build client settings from entry (or flow) data."""
    return BrokerSettings(
        host=data[CONF_HOST],
        port=int(data[CONF_PORT]),
        client_id=client_id,
        transport=Transport(data.get(CONF_TRANSPORT, Transport.TCP)),
        ws_path=data.get(CONF_WS_PATH) or DEFAULT_WS_PATH,
        tls=TlsSettings(
            mode=TlsMode(data.get(CONF_TLS, TlsMode.OFF)),
            ca_pem=data.get(CONF_CA_PEM),
            verify=data.get(CONF_VERIFY_SSL, True),
            client_cert_pem=data.get(CONF_CLIENT_CERT_PEM),
            client_key_pem=data.get(CONF_CLIENT_KEY_PEM),
        ),
        username=data.get(CONF_USERNAME),
        password=data.get(CONF_PASSWORD),
        keepalive=int(data.get(CONF_KEEPALIVE, DEFAULT_KEEPALIVE)),
        protocol=Protocol(data.get(CONF_PROTOCOL, Protocol.V311)),
        clean_session=clean_session,
        tls_dir=tls_dir,
    )


async def async_test_connection(
    hass: HomeAssistant, data: Mapping[str, Any], *, listen: float = 0.0
) -> ConnectFailure | TrafficSample:
    """Connect once with a throwaway id and clean session; return why it failed.

    With `listen` > 0, stay subscribed to the families' default topics that long and
    return what was seen (the setup suggests the families from it). The entry's own
    client id would take over (or wipe) its persistent session.
    """
    tls_dir = Path(await hass.async_add_executor_job(tempfile.mkdtemp, "", "iot_hub-"))
    settings = broker_settings(
        data, client_id=f"{new_client_id()}-probe", tls_dir=tls_dir, clean_session=True
    )
    sample = TrafficSample()
    client = MqttClient(
        settings,
        on_message=lambda topic, *_: sample.observe(topic),
        connect_timeout=CONNECT_TIMEOUT,
    )
    try:
        await client.connect()
        if listen > 0:
            await _listen(client, sample, listen)
    except MqttConnectError as err:
        _LOGGER.debug("Connection test to %s:%s failed: %s", settings.host, settings.port, err)
        return err.reason
    finally:
        await client.close()
        await hass.async_add_executor_job(shutil.rmtree, tls_dir, True)
    return sample


async def _listen(client: MqttClient, sample: TrafficSample, seconds: float) -> None:
    """Count the family messages that arrive within `seconds` of subscribing."""
    try:
        for topic in sample.subscriptions:
            await client.subscribe(topic, qos=0)
    except MqttError as err:
        # The broker may refuse a family's topics to this user: no suggestion, no failure.
        _LOGGER.debug("Listening for topic families failed: %s", err)
        return
    await asyncio.sleep(seconds)  # the listening window itself: traffic is what it waits for
