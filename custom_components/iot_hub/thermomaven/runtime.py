"""The runtime of a ThermoMaven account entry: REST session, MQTT connection, thermometers.

Start: client certificate → MQTT (our own event-loop client, mutual TLS) → subscribe to
the topics the cloud names → ask for the device lists (the cloud answers on MQTT with
`user:device:list`, which is also accepted unsolicited) → subscribe to each device's
topics as the list names them. Messages: bytes → decoded model → fleet change →
registry (devices, probes) and listeners → entities.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime
import logging
from pathlib import Path
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_COUNTRY, Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later

from ..availability import Availability
from ..const import CONF_INSTALL_ID, DOMAIN
from ..core.mqtt.backoff import Backoff
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import (
    CLIENT_CERT_REFUSALS,
    ConnectFailure,
    MqttConnectError,
    MqttError,
)
from ..core.thermomaven.errors import AuthError, SignError, ThermoMavenError
from ..core.thermomaven.fleet import Fleet, FleetChange, Thermometer
from ..core.thermomaven.messages import decode_message
from ..core.thermomaven.models import (
    CommandReceipt,
    DeviceList,
    Rejected,
    StatusReport,
    TemperatureUnit,
)
from ..core.thermomaven.regions import region_for
from ..identifiers import hub_device_info
from ..listeners import Listeners
from ..runtime import EntryKind
from .account import AccountSession
from .commands import CookCommands
from .connection import MqttAccess, async_mqtt_access
from .devices import DeviceRegistrySync, probe_device_id, split_probe_device_id

_LOGGER = logging.getLogger(__name__)

# Keep the last values this long through a cloud outage, then show entities unavailable.
GRACE_SECONDS: Final = 300
# Listener keys: every entity of a thermometer follows KEY_REPORT; the account's own
# connection entity follows KEY_CLOUD.
KEY_REPORT: Final = "report"
KEY_CLOUD: Final = "cloud"
ACCOUNT_DEVICE: Final = "__account__"
MAX_EARLY_MESSAGES: Final = 1000
# Failures connecting with the current certificate before a new one is applied for.
RENEW_AFTER_FAILURES: Final = 3
# Failed attempts that count towards a renewal (the broker's alert may name why: expired,
# revoked... a refusal all the same).
TLS_REFUSALS: Final = frozenset(
    {ConnectFailure.TLS_ERROR, ConnectFailure.INVALID_CLIENT_CERT, *CLIENT_CERT_REFUSALS}
)

type NewEntities = Callable[[str, int | None], None]


class ThermoMavenRuntime:
    """One ThermoMaven account: its session, MQTT connection and thermometers."""

    kind: EntryKind = EntryKind.THERMOMAVEN
    platforms: tuple[Platform, ...] = (Platform.BINARY_SENSOR, Platform.CLIMATE, Platform.SENSOR)

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        self.region = region_for(entry.data[CONF_COUNTRY])
        self.user_id = str(entry.unique_id)
        self.tls_dir = Path(hass.config.path(".storage", DOMAIN, entry.entry_id, "thermomaven"))
        self.session = AccountSession(hass, entry)
        self.commands = CookCommands(self.session)
        self.fleet = Fleet()
        self.registry = DeviceRegistrySync(hass, entry.entry_id)
        self.listeners = Listeners()
        self.availability = Availability(
            hass, GRACE_SECONDS, lambda: self.connected, self._availability_changed
        )
        self.unit = TemperatureUnit.FAHRENHEIT
        self.client: MqttClient | None = None
        self.access: MqttAccess | None = None
        self.rejected: dict[str, int] = {}
        self._new_entities: list[NewEntities] = []
        self._early: list[tuple[str, bytes]] | None = []
        self._renew_cancel: CALLBACK_TYPE | None = None
        self._renewing: asyncio.Task[None] | None = None
        self._failed_attempts = 0
        self._connecting = False
        # Whether the outage was logged (so "back" is logged once, and only after it).
        self._lost = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def connected(self) -> bool:
        """Whether the MQTT connection to the cloud is up."""
        return self.client is not None and self.client.connected

    # ------------------------------------------------------------ lifecycle

    async def async_start(self) -> None:
        """Log in (lazily), get a certificate, connect and subscribe; or raise for setup."""
        await self.session.async_open()
        try:
            await self._connect()
        except AuthError as err:
            await self._close()
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="thermomaven_login_refused"
            ) from err
        except SignError as err:
            await self._close()
            raise ConfigEntryError(
                translation_domain=DOMAIN, translation_key="region_not_supported"
            ) from err
        except (ThermoMavenError, MqttError) as err:
            await self._close()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="cloud_unavailable",
                translation_placeholders={"error": str(err)[:200]},
            ) from err
        self.unit = self.session.unit
        self.availability.available = True

    async def async_platforms_ready(self) -> None:
        """Handle what arrived during setup, then ask for the device lists."""
        early, self._early = self._early, None
        for topic, payload in early or ():
            self._on_message(topic, payload, 0, False)
        self._spawn(self._request_lists())

    async def async_stop(self) -> None:
        """Disconnect, cancel timers and tasks, close the REST session."""
        self._stopping = True
        self.availability.stop()
        self.session.clear_issue()
        if self._renew_cancel is not None:
            self._renew_cancel()
            self._renew_cancel = None
        for task in (*self._tasks, self._renewing):
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close()

    async def _close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        await self.session.async_close()

    def hub_device_info(self) -> DeviceInfo:
        """Return the device standing for the account."""
        return hub_device_info(
            self.entry_id, f"ThermoMaven {self.session.label}", "ThermoMaven", "Cloud account"
        )

    def forget_device(self, device_id: str) -> bool:
        """Allow deleting a thermometer the account no longer has, or an absent probe."""
        thermometer_id, slot = split_probe_device_id(device_id)
        if self.fleet.get(thermometer_id) is None:
            return True
        return slot is not None and self.fleet.forget_slot(thermometer_id, slot)

    # ------------------------------------------------------------ MQTT connection

    async def _connect(self) -> None:
        """Apply for a certificate, connect with it and subscribe to the cloud's topics."""
        access = await async_mqtt_access(
            self.hass,
            self.session,
            region=self.region,
            user_id=self.user_id,
            install_id=self.entry.data[CONF_INSTALL_ID],
            tls_dir=self.tls_dir,
        )
        client = MqttClient(
            access.settings,
            on_message=self._on_message,
            on_connection_change=self._on_connection_change,
            on_auth_failed=self._on_certificate_refused,
            on_attempt_failed=self._on_attempt_failed,
            backoff=Backoff(),
        )
        # Its "connected" is reported below, once subscribed: a list asked for before
        # the user topic is subscribed would be lost.
        self._connecting = True
        try:
            await client.connect()
            for topic in (*access.sub_topics, *self.fleet.topics):
                await client.subscribe(topic, qos=1)
        except BaseException:
            await client.close()
            raise
        finally:
            self._connecting = False
        old, self.client, self.access = self.client, client, access
        if old is not None:
            await old.close()
        self._schedule_renewal(access)
        self._on_connection_change(True)

    def _schedule_renewal(self, access: MqttAccess) -> None:
        if self._renew_cancel is not None:
            self._renew_cancel()
        self._renew_cancel = async_call_later(self.hass, access.renew_in(), self._renewal_due)

    @callback
    def _renewal_due(self, _now: datetime) -> None:
        self._renew_cancel = None
        self._renew("the certificate expires soon")

    @callback
    def _on_certificate_refused(self, err: MqttConnectError) -> None:
        self._renew(f"the broker refused the certificate ({err.reason})")

    @callback
    def _on_attempt_failed(self, err: MqttConnectError) -> None:
        # AWS IoT ends the TLS handshake of an inactive certificate: after a few such
        # failures in a row, a new certificate is worth a try.
        if err.reason in TLS_REFUSALS:
            self._failed_attempts += 1
            if self._failed_attempts >= RENEW_AFTER_FAILURES:
                self._renew(f"{self._failed_attempts} TLS failures ({err.reason})")

    @callback
    def _renew(self, why: str) -> None:
        if self._stopping or (self._renewing is not None and not self._renewing.done()):
            return
        _LOGGER.info("Renewing the ThermoMaven MQTT certificate of %s: %s", self.session.label, why)
        self._renewing = self.entry.async_create_background_task(
            self.hass, self._renew_loop(), f"iot_hub thermomaven renew {self.entry_id}"
        )

    async def _renew_loop(self) -> None:
        backoff = Backoff(base=5.0, cap=600.0)
        while not self._stopping:
            try:
                await self._connect()
            except AuthError:
                return  # reauth has started
            except (ThermoMavenError, MqttError) as err:
                delay = backoff.next_delay()
                _LOGGER.debug("Certificate renewal failed (%s); retrying in %.0f s", err, delay)
                await asyncio.sleep(delay)
            else:
                return

    @callback
    def _on_connection_change(self, connected: bool) -> None:
        if self._connecting:
            return
        if connected:
            self._failed_attempts = 0
        if connected and self._early is None:
            # Reconnected: the cloud does not resend the list by itself everywhere.
            self._spawn(self._request_lists())
        self.availability.connection_changed(connected)
        self.listeners.notify(ACCOUNT_DEVICE, (KEY_CLOUD,))

    @callback
    def _availability_changed(self) -> None:
        if self.availability.available:
            if self._lost:
                _LOGGER.info("ThermoMaven cloud of %s is reachable again", self.session.label)
            self._lost = False
        else:
            self._lost = True
            _LOGGER.warning(
                "ThermoMaven cloud of %s unreachable for %s s; its entities are unavailable",
                self.session.label,
                GRACE_SECONDS,
            )
        self.listeners.notify_all()

    async def _request_lists(self) -> None:
        """Ask for both REST device lists: the cloud then publishes `user:device:list`."""
        try:
            await self.session.call(lambda api: api.owned_devices(), wait=True)
            await self.session.call(lambda api: api.shared_devices(), wait=True)
        except ThermoMavenError as err:
            _LOGGER.debug("Device lists not requested: %s", err)

    def _spawn(self, job: Any) -> None:
        task: asyncio.Task[None] = self.entry.async_create_background_task(
            self.hass, job, f"iot_hub thermomaven {self.entry_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ message path

    @callback
    def _on_message(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if self._early is not None:
            if len(self._early) < MAX_EARLY_MESSAGES:
                self._early.append((topic, payload))
            else:
                self._count("early_dropped")
            return
        message = decode_message(topic, payload, self.unit)
        match message:
            case Rejected(reason=reason):
                self._count(reason.value)
            case DeviceList():
                # A login since the last list may have brought the account's new unit.
                self.unit = self.session.unit
                if message.user_id not in (None, self.user_id):
                    self._count("other_user")
                    return
                self._apply(self.fleet.apply_list(message))
            case StatusReport():
                self._apply(self.fleet.apply_report(message))
            case CommandReceipt():
                self.commands.receipt(message)

    def _count(self, reason: str) -> None:
        """Count a refused message; its first one per reason is logged (at debug)."""
        seen = self.rejected.get(reason, 0)
        if seen == 0:
            _LOGGER.debug("Refused a ThermoMaven message (%s); further ones are counted", reason)
        self.rejected[reason] = seen + 1

    @callback
    def _apply(self, change: FleetChange) -> None:
        for device_id in change.removed:
            self.registry.remove(device_id)
        for device_id, slot in change.probes_removed:
            if device_id not in change.removed:
                self.registry.remove(probe_device_id(device_id, slot))
        for device_id in (*change.added, *change.updated):
            if (device := self.fleet.get(device_id)) is not None:
                self.registry.register(device)
        for device_id in change.added:
            self._announce(device_id, None)
        for device_id, slot in change.probes_added:
            self._announce(device_id, slot)
        for device_id in change.updated:
            self._confirm_targets(device_id)
            self.listeners.notify(device_id, (KEY_REPORT,))
        if change.topics_changed:
            self._spawn(self._follow_topics())

    def _confirm_targets(self, device_id: str) -> None:
        device = self.fleet.get(device_id)
        if device is None:
            return
        for slot in device.slots:
            probe = device.probe(slot)
            self.commands.reported((device_id, slot), probe.target if probe else None)

    async def _follow_topics(self) -> None:
        """Subscribe to the topics the list names; drop those it no longer names."""
        client, access = self.client, self.access
        if client is None or access is None:
            return
        wanted = set(self.fleet.topics) | set(access.sub_topics)
        try:
            for topic in sorted(wanted - set(client.subscriptions)):
                await client.subscribe(topic, qos=1)
            for topic in sorted(set(client.subscriptions) - wanted):
                await client.unsubscribe(topic)
        except MqttError as err:
            # Kept in the client's list: subscribed again at the next reconnect.
            _LOGGER.debug("ThermoMaven topics not followed yet: %s", err)

    # ------------------------------------------------------------ entities

    @callback
    def add_new_entities(self, listener: NewEntities) -> CALLBACK_TYPE:
        """Call `listener(deviceId, None)` per new thermometer, `(deviceId, slot)` per probe."""
        self._new_entities.append(listener)
        return lambda: self._new_entities.remove(listener)

    def _announce(self, device_id: str, slot: int | None) -> None:
        for listener in list(self._new_entities):
            listener(device_id, slot)

    def known(self) -> list[tuple[str, int | None]]:
        """Return every thermometer (slot None) and probe the platforms should show."""
        found: list[tuple[str, int | None]] = []
        for device in self.fleet:
            found.append((device.device_id, None))
            found.extend((device.device_id, slot) for slot in sorted(device.slots))
        return found

    def thermometer(self, device_id: str) -> Thermometer | None:
        """Return a thermometer of the account."""
        return self.fleet.get(device_id)
