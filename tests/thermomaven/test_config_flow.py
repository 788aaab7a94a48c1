"""Config flow of a ThermoMaven account against the fake cloud: add, errors, reauth, reconfigure.

The entry's runtime is not under test here: setting up (and reloading) an entry is patched,
and the tests check it was asked for.
"""

from collections.abc import Callable, Iterator
import re
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.config_flow import IotHubConfigFlow
from custom_components.iot_hub.core.thermomaven.api import LOGIN, ThermoMavenApi, password_md5
from custom_components.iot_hub.core.thermomaven.models import Account

from ..config_flow_helpers import assert_no_secret
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from .conftest import INSTALL_ID

DOMAIN = "iot_hub"
STORED_TOKEN = "stored-token-0123456789"
OTHER_USER_ID = "291300000000000002"


@pytest.fixture
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Entry setup (and unload) succeed without a runtime: only the flow is under test."""
    with (
        patch("custom_components.iot_hub.async_setup_entry", return_value=True) as setup,
        patch("custom_components.iot_hub.async_unload_entry", return_value=True),
    ):
        yield setup


async def start_account_step(hass: HomeAssistant) -> ConfigFlowResult:
    """The menu, then the account form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["broker", "thermomaven"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "thermomaven"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "thermomaven"
    assert result["errors"] == {}
    return result


def account_form(cloud: FakeThermoMavenCloud, **overrides: Any) -> dict[str, Any]:
    """What a user types on the account screen."""
    return {"email": cloud.email, "password": cloud.password, "country": "US", **overrides}


def country_default(result: ConfigFlowResult) -> Any:
    """The country the form offers before the user picks one."""
    schema = result["data_schema"]
    assert schema is not None
    (marker,) = (marker for marker in schema.schema if str(marker) == "country")
    return marker.default()


def login_regions(cloud: FakeThermoMavenCloud) -> list[str]:
    """The x-region of every login the cloud received, in order."""
    return [request.headers["x-region"] for request in cloud.requests_to(LOGIN)]


def stored_secrets(entry: ConfigEntry[Any]) -> tuple[str, str]:
    return entry.data["password_md5"], entry.data["token"]


async def test_user_flow_creates_entry(
    hass: HomeAssistant, cloud: FakeThermoMavenCloud, mock_setup_entry: AsyncMock
) -> None:
    result = await start_account_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account_form(cloud, email="  User@Example.COM ")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ThermoMaven u…@example.com"  # no full email in titles
    entry = result["result"]
    assert entry.unique_id == cloud.user_id
    install_id = entry.data["install_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", install_id)
    assert dict(entry.data) == {
        "kind": "thermomaven",
        "email": "user@example.com",
        "password_md5": password_md5("hunter2"),
        "country": "US",
        "token": cloud.last_token,
        "install_id": install_id,
        "temperature_unit": "F",  # the account's unit, as its login said
    }
    # The plaintext password is neither stored nor sent.
    assert "hunter2" not in repr(dict(entry.data))
    assert all("hunter2" not in request.body for request in cloud.requests)
    assert {request.headers["x-deviceSn"] for request in cloud.requests_to(LOGIN)} == {install_id}
    await hass.async_block_till_done()
    mock_setup_entry.assert_awaited_once()
    # An account has no options and no incident rules (yet).
    assert not IotHubConfigFlow.async_supports_options_flow(entry)
    assert IotHubConfigFlow.async_get_supported_subentry_types(entry) == {}


@pytest.mark.parametrize(
    ("ha_country", "expected"),
    [("GB", "UK"), ("FR", "FR"), ("CA", "CA"), ("JP", "US"), (None, "US")],
)
async def test_default_country_follows_home_assistant(
    hass: HomeAssistant, cloud: FakeThermoMavenCloud, ha_country: str | None, expected: str
) -> None:
    hass.config.country = ha_country
    result = await start_account_step(hass)
    assert country_default(result) == expected


async def test_countries_listed_by_name(hass: HomeAssistant, cloud: FakeThermoMavenCloud) -> None:
    """The dropdown sorts by the translated name (Australia before Austria), not by code."""
    result = await start_account_step(hass)
    schema = result["data_schema"]
    assert schema is not None
    (selector,) = (value for key, value in schema.schema.items() if str(key) == "country")
    assert selector.config["sort"] is True


async def test_wrong_password(
    hass: HomeAssistant, cloud: FakeThermoMavenCloud, mock_setup_entry: AsyncMock
) -> None:
    result = await start_account_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account_form(cloud, password="wrong")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    # Refused in the US data centre and in the DE one: the password is what is wrong.
    assert login_regions(cloud) == ["US", "DE"]
    # What the user typed comes back, the password does not.
    assert_no_secret(result, "wrong")
    # The install id generated for the first attempt is kept for the retry.
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account_form(cloud))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {request.headers["x-deviceSn"] for request in cloud.requests_to(LOGIN)} == {
        result["data"]["install_id"]
    }


async def test_wrong_region(
    hass: HomeAssistant, cloud: FakeThermoMavenCloud, mock_setup_entry: AsyncMock
) -> None:
    """The cloud serves only the US regions: a DE country is refused, US accepts."""
    result = await start_account_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account_form(cloud, country="DE")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"country": "wrong_region"}
    assert login_regions(cloud) == ["DE", "US"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account_form(cloud, country="AU")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["country"] == "AU"


@pytest.mark.parametrize(
    ("fail", "error"),
    [
        ("40000", "region_not_supported"),  # sign error
        ("0", "unknown_answer"),  # "success" without any account data
    ],
)
async def test_cloud_answers(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    mock_setup_entry: AsyncMock,
    fail: str,
    error: str,
) -> None:
    result = await start_account_step(hass)
    cloud.fail_next(fail, path=LOGIN)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account_form(cloud))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert len(cloud.requests_to(LOGIN)) == 1
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account_form(cloud))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("mode", ["refuse", "503"])
async def test_cloud_unreachable(
    hass: HomeAssistant, cloud: FakeThermoMavenCloud, mock_setup_entry: AsyncMock, mode: str
) -> None:
    result = await start_account_step(hass)
    await cloud.set_unreachable(mode)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account_form(cloud))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    await cloud.set_reachable()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account_form(cloud))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_account_without_user_id(hass: HomeAssistant, cloud: FakeThermoMavenCloud) -> None:
    """Without a user id there is no unique id: the answer is not one we can use."""
    result = await start_account_step(hass)
    with patch.object(
        ThermoMavenApi, "login", AsyncMock(return_value=Account(token="t0k3n", user_id=None))
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], account_form(cloud)
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown_answer"}


async def test_already_configured(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    make_account_entry()
    result = await start_account_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], account_form(cloud, email="USER@example.com", country="CA")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    # Found by its email, without a login (which would end the entry's session).
    assert cloud.requests_to(LOGIN) == []


async def test_already_configured_under_another_email(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    """The account's email changed in the app: the user id still finds the entry."""
    make_account_entry(email="old@example.com")
    result = await start_account_step(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], account_form(cloud))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(cloud.requests_to(LOGIN)) == 1


async def test_reauth(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    entry = make_account_entry(password_md5=password_md5("old password"), token=STORED_TOKEN)
    secrets = stored_secrets(entry)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "thermomaven_reauth"
    assert result["description_placeholders"]["email"] == "user@example.com"
    assert_no_secret(result, *secrets)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": "still wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert login_regions(cloud) == ["US"]  # no country on this form: no other region tried
    assert_no_secret(result, *secrets, "still wrong")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": cloud.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["password_md5"] == password_md5(cloud.password)
    assert entry.data["token"] == cloud.last_token
    assert entry.data["install_id"] == INSTALL_ID
    assert entry.data["country"] == "US"
    assert cloud.password not in repr(dict(entry.data))
    mock_setup_entry.assert_awaited_once()  # reloaded


async def test_reauth_with_another_account(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    entry = make_account_entry(token=STORED_TOKEN)
    result = await entry.start_reauth_flow(hass)
    cloud.user_id = OTHER_USER_ID  # the email now belongs to another account
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"password": cloud.password}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data["token"] == STORED_TOKEN
    await hass.async_block_till_done()
    mock_setup_entry.assert_not_called()


async def test_reconfigure_country_keeps_password(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    entry = make_account_entry(token=STORED_TOKEN)
    secrets = stored_secrets(entry)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "thermomaven_reconfigure"
    assert result["description_placeholders"]["email"] == "user@example.com"
    assert_no_secret(result, *secrets)
    # A country of the DE data centre: the account lives in the US one.
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"country": "FR"})
    assert result["errors"] == {"country": "wrong_region"}
    assert_no_secret(result, *secrets)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"country": "NZ"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["country"] == "NZ"
    assert entry.data["password_md5"] == password_md5(cloud.password)  # left empty: kept
    assert entry.data["token"] == cloud.last_token
    assert entry.data["install_id"] == INSTALL_ID
    mock_setup_entry.assert_awaited_once()


async def test_reconfigure_new_password(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    entry = make_account_entry(token=STORED_TOKEN)
    cloud.password = "changed in the app"
    cloud.regions.add("DE")  # the data centre now serves this country too
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"country": "DE"})
    # The stored MD5 is refused in both data centres.
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"country": "DE", "password": "changed in the app"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["country"] == "DE"
    assert entry.data["password_md5"] == password_md5("changed in the app")
    mock_setup_entry.assert_awaited_once()


async def test_reconfigure_with_another_account(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    mock_setup_entry: AsyncMock,
) -> None:
    entry = make_account_entry(token=STORED_TOKEN)
    result = await entry.start_reconfigure_flow(hass)
    cloud.user_id = OTHER_USER_ID
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"country": "US"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data["token"] == STORED_TOKEN
