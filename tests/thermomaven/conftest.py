"""Fixtures of the ThermoMaven entry tests: the fake cloud, pointed at through the override."""

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.const import CONF_INSTALL_ID, CONF_PASSWORD_MD5, DOMAIN
from custom_components.iot_hub.core.thermomaven.api import password_md5
from custom_components.iot_hub.runtime import CONF_KIND, EntryKind
from custom_components.iot_hub.thermomaven.cloud import ENDPOINTS_OVERRIDE, CloudEndpoints

from ..thermomaven_cloud import fixtures
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud

thermomaven_cloud = fixtures.thermomaven_cloud

INSTALL_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def cloud(hass: HomeAssistant, thermomaven_cloud: FakeThermoMavenCloud) -> FakeThermoMavenCloud:
    """The fake cloud, and the integration pointed at it (the one documented override)."""
    hass.data[ENDPOINTS_OVERRIDE] = CloudEndpoints(
        base_url=thermomaven_cloud.base_url,
        mqtt_host=thermomaven_cloud.mqtt_host,
        mqtt_port=thermomaven_cloud.mqtt_port,
        ca_pem=thermomaven_cloud.ca_pem,
    )
    return thermomaven_cloud


def account_data(cloud: FakeThermoMavenCloud, **overrides: Any) -> dict[str, Any]:
    """Entry data of the fake cloud's account, as the config flow stores it."""
    data: dict[str, Any] = {
        CONF_KIND: EntryKind.THERMOMAVEN.value,
        "email": cloud.email,
        CONF_PASSWORD_MD5: password_md5(cloud.password),
        "country": "US",
        "token": None,
        CONF_INSTALL_ID: INSTALL_ID,
        "temperature_unit": None,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_account_entry(
    hass: HomeAssistant, cloud: FakeThermoMavenCloud
) -> Callable[..., MockConfigEntry]:
    """Return a factory adding a ThermoMaven entry for the fake cloud's account to hass."""

    def factory(**data: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="ThermoMaven u…@example.com",
            data=account_data(cloud, **data),
            unique_id=cloud.user_id,
            version=1,
            minor_version=3,
        )
        entry.add_to_hass(hass)
        return entry

    return factory
