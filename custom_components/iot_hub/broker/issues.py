"""What a broker entry tells the user about its connection: repair issues and reauth.

The runtime reports what happens (setup, subscriptions, connection changes, a
takeover, refused credentials, a refused reconnect attempt); the issue modules beside
this one decide what shows.
"""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..core.local.topics import Family
from ..core.mqtt.errors import CLIENT_CERT_REFUSALS, MqttConnectError
from ..core.mqtt.settings import BrokerSettings
from .cert_refused import ClientCertRefused
from .client_id import DuplicateClientId
from .health_issues import BrokerHealth
from .subscriptions import report_refused


class ConnectionIssues:
    """Raise and withdraw the connection's repair issues; start reauth when refused."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        broker: str,
        settings: BrokerSettings,
        bases: dict[Family, str],
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.broker = broker
        self.bases = bases
        self.duplicate_id = DuplicateClientId(hass, entry.entry_id, broker, settings.client_id)
        self.cert_refused = ClientCertRefused(hass, entry.entry_id, broker)
        # Certificate and outage issues: kept per entry across setup retries.
        self.health = BrokerHealth.attach(hass, entry, broker, settings.tls)

    @callback
    def starting(self) -> None:
        """Check the certificates before connecting: their issues show even if it fails."""
        self.health.check_certificates()

    @callback
    def setup_failed(self, error: Exception) -> None:
        """Count a failed setup towards the outage (or end it: refused for good)."""
        self.health.setup_failed(error)

    @callback
    def subscribed(self, refused: list[str]) -> None:
        """Name the topic filters the broker refused (its ACL), or withdraw the issue."""
        report_refused(self.hass, self.entry.entry_id, self.broker, self.bases, refused)

    @callback
    def connection_changed(self, connected: bool) -> None:
        """Follow the connection: outage, duplicate-client-id and refused-certificate issues."""
        self.duplicate_id.connection_changed(connected)
        self.cert_refused.connection_changed(connected)
        self.health.connection_changed(connected)

    @callback
    def taken_over(self) -> None:
        """Say another client seems to use our client id."""
        self.duplicate_id.taken_over()

    @callback
    def attempt_failed(self, err: MqttConnectError) -> None:
        """Say at once when the broker refuses the client certificate (reconnecting goes on).

        A broker that refuses the certificate answers: that is not an outage.
        """
        self.cert_refused.attempt_failed(err)
        if err.reason in CLIENT_CERT_REFUSALS:
            self.health.broker_answered()

    @callback
    def auth_failed(self, _err: MqttConnectError) -> None:
        """Ask the user for credentials the broker accepts."""
        self.entry.async_start_reauth(self.hass)

    @callback
    def stop(self) -> None:
        """Withdraw this setup's issues (unloaded; a new setup raises them again if needed).

        Call it once the connection is closed: a loss reported while closing could
        raise an issue again.
        """
        report_refused(self.hass, self.entry.entry_id, self.broker, self.bases, [])
        self.duplicate_id.stop()
        self.cert_refused.stop()
