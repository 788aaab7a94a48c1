"""The account's session: token expiry, refused login, the phone app taking the session over."""

from collections.abc import Callable
from unittest.mock import patch

from homeassistant.components.climate import DOMAIN as CLIMATE_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, ATTR_TEMPERATURE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.core.thermomaven.api import password_md5
from custom_components.iot_hub.core.thermomaven.session import TakeoverGuard

from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from .test_setup import P1, started

COMMAND = "/app/command/send"


async def set_target(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        CLIMATE_DOMAIN,
        "set_temperature",
        {ATTR_ENTITY_ID: f"climate.{P1}_probe_1", ATTR_TEMPERATURE: value},
        blocking=True,
    )


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[object]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler("iot_hub")
        if flow["context"].get("source") == SOURCE_REAUTH
        and flow["context"].get("entry_id") == entry.entry_id
    ]


async def test_expired_token_logs_in_again_once(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A code never seen before (the token expired) → one silent login → the call succeeds."""
    entry = await started(hass, make_account_entry, cloud)
    logins = cloud.logins
    cloud.expire_tokens()
    await set_target(hass, 60)
    assert cloud.logins == logins + 1
    # The refused call, then the same call again with the new token.
    sent = cloud.requests_to(COMMAND)
    assert [request.code for request in sent[-2:]] == ["4099", "0"]
    assert entry.data["token"] == cloud.last_token
    assert "password" not in entry.data


async def test_login_refused_at_setup_starts_reauth(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The password changed while Home Assistant was down: setup fails into reauth."""
    entry = make_account_entry(password_md5=password_md5("old password"))
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert reauth_flows(hass, entry)


async def test_login_refused_while_running_starts_reauth(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The token dies and the password was changed: the command fails, reauth starts."""
    entry = await started(hass, make_account_entry, cloud)
    cloud.password = "changed"
    cloud.expire_tokens()
    with pytest.raises(HomeAssistantError):
        await set_target(hass, 60)
    await hass.async_block_till_done()
    assert reauth_flows(hass, entry)


async def test_takeover_holds_back_the_next_login(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The phone app logs in: our next call logs in again once, then we wait (no ping-pong)."""
    await started(hass, make_account_entry, cloud)
    cloud.take_over_session()
    await set_target(hass, 60)  # re-login: the app is signed out
    logins = cloud.logins
    cloud.take_over_session()  # the app signs in again at once
    with pytest.raises(HomeAssistantError) as raised:
        await set_target(hass, 61)
    assert raised.value.translation_key == "session_busy"
    assert cloud.logins == logins  # not logged in again: the app keeps its session
    assert not ir.async_get(hass).issues  # once is not "repeatedly"


async def test_repeated_takeovers_raise_a_repair_issue(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """Three takeovers within the hour: a repair issue explains the shared-account setup."""
    with patch(
        "custom_components.iot_hub.thermomaven.account.TakeoverGuard",
        lambda: TakeoverGuard(base_delay=0),
    ):
        entry = await started(hass, make_account_entry, cloud)
        for target in (60, 61, 62):
            cloud.take_over_session()
            await set_target(hass, target)
    issue = ir.async_get(hass).async_get_issue("iot_hub", f"session_taken_over_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == "session_taken_over"
    assert issue.translation_placeholders == {"account": "u…@example.com"}
    # Unloading the entry clears it.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert ir.async_get(hass).async_get_issue("iot_hub", issue.issue_id) is None
