"""Config flow steps of a ThermoMaven cloud account: add, reauth and reconfigure.

The entry keeps the MD5 of the password (what the cloud logs in with), never the password
itself; no form ever carries the stored MD5 or token back to the browser.
"""

from collections.abc import Mapping
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_COUNTRY, CONF_EMAIL, CONF_PASSWORD, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from ..const import CONF_INSTALL_ID, CONF_PASSWORD_MD5, CONF_TEMPERATURE_UNIT
from ..core.thermomaven.api import normalise_email, password_md5
from ..core.thermomaven.errors import (
    AuthError,
    CloudUnavailable,
    RegionError,
    SignError,
    ThermoMavenError,
)
from ..core.thermomaven.models import Account
from ..core.thermomaven.regions import REGIONS, DataCentre, region_for
from ..core.thermomaven.signing import new_device_sn
from ..runtime import CONF_KIND, EntryKind
from .account import account_label
from .cloud import cloud_api

_LOGGER = logging.getLogger(__name__)

STEP_USER: Final = "thermomaven"
STEP_REAUTH: Final = "thermomaven_reauth"
STEP_RECONFIGURE: Final = "thermomaven_reconfigure"
DEFAULT_COUNTRY: Final = "US"
# Home Assistant uses ISO 3166 codes; the cloud's table says UK for the United Kingdom.
_HA_TO_TABLE: Final = {"GB": "UK"}
# A login refused in one data centre is tried in this one to tell a wrong region apart.
_OTHER_CENTRE: Final = {DataCentre.US: "DE", DataCentre.DE: "US"}

_PASSWORD = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_COUNTRY = SelectSelector(
    SelectSelectorConfig(
        options=sorted(REGIONS),
        translation_key="country",
        mode=SelectSelectorMode.DROPDOWN,
        sort=True,  # by the translated country name, not by code
    )
)


def user_schema(default_country: str) -> probatio.Schema:
    """Return the schema of a new account: email, password and country."""
    return probatio.Schema(
        {
            probatio.Required(CONF_EMAIL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
            ),
            probatio.Required(CONF_PASSWORD): _PASSWORD,
            probatio.Required(CONF_COUNTRY, default=default_country): _COUNTRY,
        }
    )


REAUTH_SCHEMA: Final = probatio.Schema({probatio.Required(CONF_PASSWORD): _PASSWORD})
# Password left empty: the stored MD5 is kept.
RECONFIGURE_SCHEMA: Final = probatio.Schema(
    {probatio.Required(CONF_COUNTRY): _COUNTRY, probatio.Optional(CONF_PASSWORD): _PASSWORD}
)


def default_country(hass: HomeAssistant) -> str:
    """Return Home Assistant's country when the region table has it, else US."""
    country = hass.config.country or ""
    country = _HA_TO_TABLE.get(country, country)
    return country if country in REGIONS else DEFAULT_COUNTRY


def _error_key(err: ThermoMavenError) -> str:
    """Return the form error of a failed login (other than a refused password)."""
    if isinstance(err, SignError):
        # The app key is only proven on the US data centre.
        return "region_not_supported"
    if isinstance(err, CloudUnavailable):
        return "cannot_connect"
    return "unknown_answer"  # UnexpectedAnswer: malformed, oversized or an unknown code


async def _login(hass: HomeAssistant, data: Mapping[str, Any], country: str) -> Account:
    """Log in with the entry data's credentials in `country`'s data centre."""
    async with cloud_api(hass, country=country, install_id=data[CONF_INSTALL_ID]) as api:
        return await api.login(data[CONF_EMAIL], data[CONF_PASSWORD_MD5])


def _login_data(account: Account) -> dict[str, Any]:
    """Return what a login gives the entry: its token and the account's unit."""
    unit = account.temperature_unit
    return {CONF_TOKEN: account.token, CONF_TEMPERATURE_UNIT: unit.value if unit else None}


class ThermoMavenFlowMixin(ConfigFlow):
    """The ThermoMaven account steps of IoT Hub's config flow."""

    # Generated at the first login attempt, kept for the retries (one install per entry).
    _install_id: str | None = None

    async def async_step_thermomaven(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's email, password and country; log in before saving."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._install_id = self._install_id or new_device_sn()
            data: dict[str, Any] = {
                CONF_KIND: EntryKind.THERMOMAVEN.value,
                CONF_EMAIL: normalise_email(user_input[CONF_EMAIL]),
                CONF_PASSWORD_MD5: password_md5(user_input[CONF_PASSWORD]),
                CONF_COUNTRY: user_input[CONF_COUNTRY],
                CONF_TOKEN: None,
                CONF_INSTALL_ID: self._install_id,
            }
            # Before logging in: a login would end the session of the entry that has it.
            self._async_abort_entries_match({key: data[key] for key in (CONF_KIND, CONF_EMAIL)})
            account, errors = await self._async_login(data, country_field=True)
            if account is not None:
                await self.async_set_unique_id(account.user_id)
                self._abort_if_unique_id_configured()
                data |= _login_data(account)
                # The email is personal data: Home Assistant's own log lines name entries.
                title = f"ThermoMaven {account_label(data[CONF_EMAIL])}"
                return self.async_create_entry(title=title, data=data)
        # What the user typed comes back, except the password.
        shown = {key: user_input[key] for key in (CONF_EMAIL, CONF_COUNTRY)} if user_input else {}
        return self.async_show_form(
            step_id=STEP_USER,
            data_schema=self.add_suggested_values_to_schema(
                user_schema(default_country(self.hass)), shown
            ),
            errors=errors,
        )

    async def async_step_thermomaven_reauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's password again; log in before saving."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_PASSWORD_MD5: password_md5(user_input[CONF_PASSWORD])}
            done, errors = await self._async_update_entry(
                entry, data, (CONF_PASSWORD_MD5,), country_field=False
            )
            if done is not None:
                return done
        return self.async_show_form(
            step_id=STEP_REAUTH,
            data_schema=REAUTH_SCHEMA,
            errors=errors,
            description_placeholders={"email": entry.data[CONF_EMAIL]},
        )

    async def async_step_thermomaven_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the account's country (and password); log in before saving."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_COUNTRY: user_input[CONF_COUNTRY]}
            if password := user_input.get(CONF_PASSWORD):
                data[CONF_PASSWORD_MD5] = password_md5(password)
            done, errors = await self._async_update_entry(
                entry, data, (CONF_COUNTRY, CONF_PASSWORD_MD5), country_field=True
            )
            if done is not None:
                return done
        # Only the country is pre-filled: the stored MD5 and token never leave.
        shown = {CONF_COUNTRY: (user_input or entry.data)[CONF_COUNTRY]}
        return self.async_show_form(
            step_id=STEP_RECONFIGURE,
            data_schema=self.add_suggested_values_to_schema(RECONFIGURE_SCHEMA, shown),
            errors=errors,
            description_placeholders={"email": entry.data[CONF_EMAIL]},
        )

    async def _async_update_entry(
        self,
        entry: ConfigEntry[Any],
        data: Mapping[str, Any],
        keys: tuple[str, ...],
        *,
        country_field: bool,
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Log in with `data`; on success save `keys` and the new token, and reload.

        Another account than the entry's aborts the flow (reason "wrong_account").
        """
        account, errors = await self._async_login(data, country_field=country_field)
        if account is None:
            return None, errors
        await self.async_set_unique_id(account.user_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        updates = {key: data[key] for key in keys} | _login_data(account)
        return self.async_update_reload_and_abort(entry, data_updates=updates), {}

    async def _async_login(
        self, data: Mapping[str, Any], *, country_field: bool
    ) -> tuple[Account | None, dict[str, str]]:
        """Log in with `data`; return the account, or None and the form errors.

        With a country field on the form, a refused login is tried in the other data
        centre: if that one accepts it, the country is what is wrong, not the password.
        """
        country = data[CONF_COUNTRY]
        try:
            account = await _login(self.hass, data, country)
        except RegionError:
            return None, {CONF_COUNTRY if country_field else "base": "invalid_country"}
        except AuthError as err:
            _LOGGER.debug("ThermoMaven login refused: %s", err)
            if country_field and await self._accepted_elsewhere(data, country):
                return None, {CONF_COUNTRY: "wrong_region"}
            return None, {"base": "invalid_auth"}
        except ThermoMavenError as err:
            _LOGGER.debug("ThermoMaven login failed: %s", err)
            return None, {"base": _error_key(err)}
        if account.user_id is None:
            _LOGGER.debug("ThermoMaven login answer has no user id")
            return None, {"base": "unknown_answer"}
        return account, {}

    async def _accepted_elsewhere(self, data: Mapping[str, Any], country: str) -> bool:
        """Whether the other data centre accepts the credentials refused in `country`'s."""
        other = _OTHER_CENTRE[region_for(country).data_centre]
        try:
            await _login(self.hass, data, other)
        except ThermoMavenError:
            return False
        return True
