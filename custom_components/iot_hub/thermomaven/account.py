"""The account's REST session: calls, the token kept in the entry, takeovers and reauth."""

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_COUNTRY, CONF_EMAIL, CONF_TOKEN
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from ..const import (
    CONF_INSTALL_ID,
    CONF_PASSWORD_MD5,
    CONF_TEMPERATURE_UNIT,
    DOMAIN,
    ISSUE_SESSION_TAKEN_OVER,
)
from ..core.thermomaven.api import ThermoMavenApi
from ..core.thermomaven.errors import AuthError
from ..core.thermomaven.models import TemperatureUnit
from ..core.thermomaven.session import TakeoverGuard
from .cloud import cloud_api

_LOGGER = logging.getLogger(__name__)


def account_label(email: str) -> str:
    """Return how the account is named in titles, logs and repairs: "u…@example.com".

    The full email is personal data: it never goes to logs, states or repair issues.
    """
    local, _, domain = email.strip().lower().partition("@")
    return f"{local[:1]}…@{domain}" if domain else f"{local[:1]}…"


class SessionBusy(HomeAssistantError):
    """A call was refused: the session was taken over recently (the app is in use)."""


class AccountSession:
    """REST calls of one entry; a re-login that replaced our token is a takeover."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[object]) -> None:
        self.hass = hass
        self.entry = entry
        self.guard = TakeoverGuard()
        self.label = account_label(entry.data[CONF_EMAIL])
        self._stack = AsyncExitStack()
        self._api: ThermoMavenApi | None = None

    @property
    def api(self) -> ThermoMavenApi:
        """Return the REST client (after `async_open`)."""
        assert self._api is not None
        return self._api

    async def async_open(self) -> None:
        """Create the REST client with the stored credentials and token (no network)."""
        data = self.entry.data
        self._api = await self._stack.enter_async_context(
            cloud_api(self.hass, country=data[CONF_COUNTRY], install_id=data[CONF_INSTALL_ID])
        )
        self._api.set_credentials(data[CONF_EMAIL], data[CONF_PASSWORD_MD5], data.get(CONF_TOKEN))

    async def async_close(self) -> None:
        """Close the session the client uses (when it owns one)."""
        await self._stack.aclose()
        self._api = None

    async def call[T](
        self, operation: Callable[[ThermoMavenApi], Awaitable[T]], *, wait: bool = False
    ) -> T:
        """Run one REST operation; keep a new token; count takeovers.

        After a takeover, calls that may log in again are held back (`guard`): with
        `wait` the call sleeps it out, else it raises SessionBusy (translated).
        AuthError (login refused) starts the reauth flow and is raised again.
        """
        if (delay := self.guard.wait_time()) > 0:
            if not wait:
                raise SessionBusy(
                    translation_domain=DOMAIN,
                    translation_key="session_busy",
                    translation_placeholders={"minutes": str(max(1, round(delay / 60)))},
                )
            await asyncio.sleep(delay)
        api = self.api
        before = api.token
        try:
            result = await operation(api)
        except AuthError:
            self.entry.async_start_reauth(self.hass)
            raise
        finally:
            self._keep_token(before)
        return result

    @callback
    def _keep_token(self, before: str | None) -> None:
        token = self.api.token
        if token is None or token == self.entry.data.get(CONF_TOKEN):
            return
        if before is not None and token != before:
            # Our token died and the client logged in again: the app had the session.
            self.guard.record()
            _LOGGER.info(
                "ThermoMaven session of %s was taken over (%s time(s)); logged in again",
                self.label,
                self.guard.total,
            )
            self._report_takeovers()
        data = {**self.entry.data, CONF_TOKEN: token}
        if (account := self.api.account) is not None and account.temperature_unit is not None:
            data[CONF_TEMPERATURE_UNIT] = account.temperature_unit.value
        self.hass.config_entries.async_update_entry(self.entry, data=data)

    @property
    def unit(self) -> TemperatureUnit:
        """Return the account's unit: of the last login, else as stored, else °F.

        The cloud's reports default to °F when the login never said (as the apps do).
        """
        if (account := self.api.account) is not None and account.temperature_unit is not None:
            return account.temperature_unit
        stored = self.entry.data.get(CONF_TEMPERATURE_UNIT)
        return TemperatureUnit(stored) if stored in ("C", "F") else TemperatureUnit.FAHRENHEIT

    @callback
    def _report_takeovers(self) -> None:
        issue_id = f"{ISSUE_SESSION_TAKEN_OVER}_{self.entry.entry_id}"
        if self.guard.repeated:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=ISSUE_SESSION_TAKEN_OVER,
                translation_placeholders={"account": self.label},
            )

    @callback
    def clear_issue(self) -> None:
        """Remove the takeover repair issue (entry unloaded)."""
        ir.async_delete_issue(
            self.hass, DOMAIN, f"{ISSUE_SESSION_TAKEN_OVER}_{self.entry.entry_id}"
        )
