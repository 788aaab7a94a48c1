"""The repair issue "the broker refuses this entry's client certificate", raised at once.

A running entry whose client certificate the broker stops accepting (it has expired,
was revoked, comes from a CA the broker no longer trusts, or the broker now requires
one) keeps reconnecting with its backoff: the broker's administrator may undo a change
(a revocation list, a CA). But only the user can renew the certificate, so they are
told at the first refusal, not at the next restart. The issue goes as soon as a
connection succeeds, and when the entry unloads. Logged once per cause, not at every
attempt (each attempt is logged at debug by the client).
"""

import logging
from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..core.mqtt.errors import ConnectFailure, MqttConnectError
from .health_issues import INTEGRATION_PAGE

# The issue's translation key for each refusal (`CLIENT_CERT_REFUSALS`).
REFUSED_KEYS: Final = {
    ConnectFailure.CLIENT_CERT_EXPIRED: "client_cert_refused_expired",
    ConnectFailure.CLIENT_CERT_REJECTED: "client_cert_refused_rejected",
    ConnectFailure.CLIENT_CERT_REQUIRED: "client_cert_refused_required",
}

_LOGGER = logging.getLogger(__name__)


def client_cert_refused_issue_id(entry_id: str) -> str:
    """Return the id of an entry's issue "the broker refuses the client certificate"."""
    return f"client_cert_refused_{entry_id}"


class ClientCertRefused:
    """Raise the issue at a refused reconnect attempt; delete it once connected."""

    def __init__(self, hass: HomeAssistant, entry_id: str, broker: str) -> None:
        self.hass = hass
        self.issue_id = client_cert_refused_issue_id(entry_id)
        self.broker = broker
        # The refusal shown (and logged) since the last connection; None if none.
        self.reason: ConnectFailure | None = None

    @callback
    def attempt_failed(self, err: MqttConnectError) -> None:
        """Raise (or reword) the issue when the broker refused the client certificate.

        Other failures (the broker down meanwhile, say) leave it as it is: the
        certificate has not been accepted since.
        """
        key = REFUSED_KEYS.get(err.reason)
        if key is None or err.reason is self.reason:
            return
        self.reason = err.reason
        _LOGGER.warning(
            "MQTT broker %s refuses the client certificate (%s%s); reconnecting with "
            "backoff, but only a certificate it accepts ends this: reconfigure the entry "
            "(see the repair issue). Further refusals for this reason are logged at debug",
            self.broker,
            err.reason.value,
            f": {err.detail}" if err.detail else "",
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            learn_more_url=INTEGRATION_PAGE,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders={"broker": self.broker},
        )

    @callback
    def connection_changed(self, connected: bool) -> None:
        """Delete the issue once a connection succeeds: the certificate was accepted."""
        if connected:
            self.stop()

    @callback
    def stop(self) -> None:
        """Delete the issue (the entry unloads; a new setup raises it again if needed)."""
        self.reason = None
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
