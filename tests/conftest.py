"""Shared fixtures: the real broker, an isolated config dir, fast reconnects."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Import our package before Home Assistant mounts phacc's testing_config, which
# has a custom_components package of its own that would shadow ours.
import custom_components  # noqa: F401
from custom_components.iot_hub.const import CONF_CLIENT_ID, CONF_KEEPALIVE, CONF_PROTOCOL
from custom_components.iot_hub.core.mqtt.backoff import Backoff

from . import broker
from .broker import Mosquitto

# The broker fixtures, visible to every test module.
mosquitto = broker.mosquitto
pki = broker.pki

DOMAIN = "iot_hub"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load integrations from custom_components."""


@pytest.fixture(autouse=True)
def isolated_config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Keep files the integration writes (TLS material) in the test's tmp dir."""
    hass.config.config_dir = str(tmp_path / "config")


@pytest.fixture(autouse=True)
def fast_backoff() -> Iterator[None]:
    """Reconnect within tens of milliseconds so broker-restart tests stay short."""
    with patch(
        "custom_components.iot_hub.broker.runtime.Backoff", lambda: Backoff(base=0.05, cap=0.2)
    ):
        yield


@pytest.fixture(autouse=True)
def short_listening() -> Iterator[None]:
    """The setup listens to a new broker for 0.3 s instead of 3 (retained messages come first)."""
    with patch("custom_components.iot_hub.broker.flow.LISTEN_SECONDS", 0.3):
        yield


def broker_data(broker: Mosquitto, **overrides: Any) -> dict[str, Any]:
    """Entry data for the broker's password listener."""
    data: dict[str, Any] = {
        CONF_HOST: broker.host,
        CONF_PORT: broker.port_password,
        "transport": "tcp",
        "ws_path": "/mqtt",
        "tls": "off",
        "verify_ssl": True,
        "ca_pem": None,
        "client_cert_pem": None,
        "client_key_pem": None,
        CONF_USERNAME: broker.username,
        CONF_PASSWORD: broker.password,
        CONF_KEEPALIVE: 60,
        CONF_PROTOCOL: "3.1.1",
        CONF_CLIENT_ID: "iot_hub-0123456789",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_entry(hass: HomeAssistant, mosquitto: Mosquitto) -> Callable[..., MockConfigEntry]:
    """Return a factory adding a broker entry for the test broker to hass."""

    def factory(options: dict[str, Any] | None = None, **data: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"{mosquitto.host}:{mosquitto.port_password}",
            data=broker_data(mosquitto, **data),
            options=options or {},
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(hass)
        return entry

    return factory
