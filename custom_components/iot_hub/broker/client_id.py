"""The repair issue "another client uses this entry's MQTT client id", and its end.

The client judges its lost connections (`core.mqtt.takeover`) and slows its
reconnecting down by itself; this module tells the user, and takes the issue back
once a connection has held for `STABLE_SECONDS`.
"""

from datetime import datetime
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later

from ..const import DOMAIN, ISSUE_DUPLICATE_CLIENT_ID

# The issue goes once a connection has lasted this long: the other client is gone
# (with our reconnect delay capped at a minute, it would have kicked us long before).
STABLE_SECONDS: Final = 600

_LOGGER = logging.getLogger(__name__)


def duplicate_client_id_issue_id(entry_id: str) -> str:
    """Return the id of an entry's repair issue "another client uses our client id"."""
    return f"{ISSUE_DUPLICATE_CLIENT_ID}_{entry_id}"


class DuplicateClientId:
    """Raise the issue when the client reports a takeover; delete it once stable."""

    def __init__(self, hass: HomeAssistant, entry_id: str, broker: str, client_id: str) -> None:
        self.hass = hass
        self.issue_id = duplicate_client_id_issue_id(entry_id)
        self.broker = broker
        self.client_id = client_id
        self.raised = False
        self._clear_cancel: CALLBACK_TYPE | None = None

    @callback
    def taken_over(self) -> None:
        """Raise the issue: a lost connection says another client uses our client id."""
        self._cancel_clear()
        if self.raised:
            return
        self.raised = True
        _LOGGER.warning(
            "Another MQTT client seems to use the client id %s on %s: the broker keeps "
            "dropping this connection soon after it is made; reconnecting less and less "
            "often (see the repair issue)",
            self.client_id,
            self.broker,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DUPLICATE_CLIENT_ID,
            translation_placeholders={"broker": self.broker, "client_id": self.client_id},
        )

    @callback
    def connection_changed(self, connected: bool) -> None:
        """Start counting the stable time on a connection; stop on a loss."""
        self._cancel_clear()
        if connected and self.raised:
            self._clear_cancel = async_call_later(self.hass, STABLE_SECONDS, self._stable)

    @callback
    def _stable(self, _now: datetime) -> None:
        self._clear_cancel = None
        _LOGGER.info(
            "Connection to %s held for %s s: no other client uses the client id %s any more",
            self.broker,
            STABLE_SECONDS,
            self.client_id,
        )
        self._delete()

    @callback
    def stop(self) -> None:
        """Delete the issue (the entry unloads; a new setup raises it again if needed)."""
        self._cancel_clear()
        self._delete()

    @callback
    def _delete(self) -> None:
        self.raised = False
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)

    @callback
    def _cancel_clear(self) -> None:
        if self._clear_cancel is not None:
            self._clear_cancel()
            self._clear_cancel = None
