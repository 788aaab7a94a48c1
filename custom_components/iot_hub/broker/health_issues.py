"""Repair issues about a broker entry's health: certificates near their end, a long outage.

A runtime lives for one setup attempt: each ConfigEntryNotReady retry builds a new
one (Home Assistant retries after 5 s, doubling up to 10 minutes). What must outlive
the attempts lives in one `BrokerHealth` per entry, kept in `hass.data` from the
entry's first setup attempt until the entry is unloaded (its state becomes NOT_LOADED:
unload, reload, reconfigure, disabling or removal), which deletes its issues:

- when the outage began (the first failed attempt, or the loss of a working
  connection) and the timer raising "unreachable" a day later. An outage spans the
  retries; a connection ends it, and so does a setup refused for another reason
  (credentials, client certificate: the broker answered, and has its own error).
- the daily certificate check, which therefore also runs while setup is retried or
  has failed (an expired client certificate fails it for good).

Nothing is stored: after a restart of Home Assistant (or a reload) the day starts over.
"""

from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..const import (
    DOMAIN,
    ISSUE_BROKER_UNREACHABLE,
    ISSUE_CA_CERT_EXPIRED,
    ISSUE_CA_CERT_EXPIRING,
    ISSUE_CLIENT_CERT_EXPIRED,
    ISSUE_CLIENT_CERT_EXPIRING,
)
from ..core.mqtt.certificates import Expiry, InvalidCertificateError, earliest_expiry
from ..core.mqtt.settings import TlsMode, TlsSettings

# A connection failing this long raises the "unreachable" issue.
UNREACHABLE_AFTER: Final = timedelta(days=1)
# A certificate ending within this period raises its issue.
EXPIRY_WARNING: Final = timedelta(days=30)
CERTIFICATE_CHECK_INTERVAL: Final = timedelta(days=1)
# The issues' "Learn more" link: the integration's page, where each entry has Reconfigure.
INTEGRATION_PAGE: Final = f"homeassistant://config/integrations/integration/{DOMAIN}"
# A certificate's issue key (its issue id's prefix too) → the key once it has ended.
EXPIRED_KEYS: Final = {
    ISSUE_CLIENT_CERT_EXPIRING: ISSUE_CLIENT_CERT_EXPIRED,
    ISSUE_CA_CERT_EXPIRING: ISSUE_CA_CERT_EXPIRED,
}

DATA_HEALTH: HassKey[dict[str, BrokerHealth]] = HassKey(f"{DOMAIN}_broker_health")

_LOGGER = logging.getLogger(__name__)


def certificate_issue_id(key: str, entry_id: str) -> str:
    """Return the id of an entry's issue about one certificate (`key`: its "expiring" key)."""
    return f"{key}_{entry_id}"


def unreachable_issue_id(entry_id: str) -> str:
    """Return the id of an entry's repair issue "the broker is unreachable for a day"."""
    return f"{ISSUE_BROKER_UNREACHABLE}_{entry_id}"


def used_certificates(tls: TlsSettings) -> dict[str, str | None]:
    """Return the PEM text of each certificate the connection uses, by issue key.

    The client certificate is presented only with TLS on, the custom CA trusted only
    in its mode: material left in the entry but unused is not checked (None).
    """
    return {
        ISSUE_CLIENT_CERT_EXPIRING: tls.client_cert_pem if tls.enabled else None,
        ISSUE_CA_CERT_EXPIRING: tls.ca_pem if tls.mode is TlsMode.CUSTOM_CA else None,
    }


def _expiry(pem: str | None) -> Expiry | None:
    """Return when the PEM text's first certificate to expire does, None if unreadable."""
    if not pem:
        return None
    try:
        return earliest_expiry(pem)
    except InvalidCertificateError:
        # Setup refuses it with its own error (invalid CA or client certificate).
        return None


def _moment(when: datetime) -> str:
    """Format a moment for a placeholder: local time, to the minute."""
    return dt_util.as_local(when).strftime("%Y-%m-%d %H:%M")


class BrokerHealth:
    """The certificate and outage issues of one broker entry, across its setup attempts."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        self.broker = ""
        self.tls = TlsSettings()
        # When the current outage began; None while connected (or not tried yet).
        self.outage_since: datetime | None = None
        self._closed = False
        self._overdue_cancel: CALLBACK_TYPE | None = None
        self._check_cancel = async_track_time_interval(
            hass,
            self._daily_check,
            CERTIFICATE_CHECK_INTERVAL,
            name="iot_hub certificate expiry",
            cancel_on_shutdown=True,
        )
        self._state_cancel = entry.async_on_state_change(self._state_changed)

    @classmethod
    @callback
    def attach(
        cls, hass: HomeAssistant, entry: ConfigEntry[Any], broker: str, tls: TlsSettings
    ) -> BrokerHealth:
        """Return the entry's tracker, created at its first setup attempt since loading."""
        trackers = hass.data.setdefault(DATA_HEALTH, {})
        if (health := trackers.get(entry.entry_id)) is None:
            health = trackers[entry.entry_id] = cls(hass, entry)
        health.broker = broker
        health.tls = tls
        return health

    # ------------------------------------------------------------ certificates

    @callback
    def check_certificates(self) -> None:
        """Raise, update or delete the issue of each certificate the connection uses."""
        now = dt_util.utcnow()
        for key, pem in used_certificates(self.tls).items():
            issue_id = certificate_issue_id(key, self.entry_id)
            expiry = _expiry(pem)
            if expiry is None or not expiry.expires_within(now, EXPIRY_WARNING):
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            self._certificate_issue(issue_id, key, expiry, now)

    @callback
    def _certificate_issue(self, issue_id: str, key: str, expiry: Expiry, now: datetime) -> None:
        """Raise or update the issue of a certificate that ends soon or has ended."""
        expired = expiry.expired(now)
        placeholders = {
            "broker": self.broker,
            "certificate": expiry.subject,
            "expires": _moment(expiry.not_after),
        }
        if not expired:
            placeholders["days"] = str(expiry.days_left(now))
        old = ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id)
        if old is None or old.translation_placeholders != placeholders:
            # Logged once a day at most, not at every setup retry.
            _LOGGER.warning(
                "The certificate %s of %s %s on %s",
                expiry.subject,
                self.broker,
                "expired" if expired else f"expires in {placeholders['days']} days,",
                placeholders["expires"],
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            learn_more_url=INTEGRATION_PAGE,
            severity=ir.IssueSeverity.ERROR if expired else ir.IssueSeverity.WARNING,
            translation_key=EXPIRED_KEYS[key] if expired else key,
            translation_placeholders=placeholders,
        )

    @callback
    def _daily_check(self, _now: datetime) -> None:
        self.check_certificates()

    # ------------------------------------------------------------ outage

    @callback
    def setup_failed(self, error: Exception) -> None:
        """Count a setup to be retried as unreachable; one refused for good ends the outage."""
        if isinstance(error, ConfigEntryNotReady):
            self._unreachable()
        else:
            self._reachable()

    @callback
    def broker_answered(self) -> None:
        """End the outage: the broker answers (it refused the client certificate)."""
        self._reachable()

    @callback
    def connection_changed(self, connected: bool) -> None:
        """End the outage on a connection; start one on a loss."""
        if connected:
            self._reachable()
        else:
            self._unreachable()

    @callback
    def _unreachable(self) -> None:
        if self._closed or self.outage_since is not None:
            return
        self.outage_since = dt_util.utcnow()
        self._overdue_cancel = async_call_later(
            self.hass,
            UNREACHABLE_AFTER,
            HassJob(self._overdue, "iot_hub broker unreachable", cancel_on_shutdown=True),
        )

    @callback
    def _overdue(self, _now: datetime) -> None:
        self._overdue_cancel = None
        assert self.outage_since is not None
        since = _moment(self.outage_since)
        _LOGGER.warning("MQTT broker %s unreachable since %s", self.broker, since)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            unreachable_issue_id(self.entry_id),
            is_fixable=False,
            learn_more_url=INTEGRATION_PAGE,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_BROKER_UNREACHABLE,
            translation_placeholders={"broker": self.broker, "since": since},
        )

    @callback
    def _reachable(self) -> None:
        if self._overdue_cancel is not None:
            self._overdue_cancel()
            self._overdue_cancel = None
        self.outage_since = None
        ir.async_delete_issue(self.hass, DOMAIN, unreachable_issue_id(self.entry_id))

    # ------------------------------------------------------------ end

    @callback
    def _state_changed(self) -> None:
        if self.entry.state is ConfigEntryState.NOT_LOADED:
            self._close()

    @callback
    def _close(self) -> None:
        """Delete the issues and forget the entry (unloaded: a new setup starts over)."""
        self._closed = True
        # Called while the entry walks its state listeners: removing one now would skip
        # the next, so once the walk is over.
        self.hass.loop.call_soon(self._state_cancel)
        self._check_cancel()
        self._reachable()
        for key in EXPIRED_KEYS:
            ir.async_delete_issue(self.hass, DOMAIN, certificate_issue_id(key, self.entry_id))
        trackers = self.hass.data.get(DATA_HEALTH, {})
        if trackers.get(self.entry_id) is self:
            del trackers[self.entry_id]
