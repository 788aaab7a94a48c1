"""The runtime of a broker entry: connection, availability, and the message path.

bytes → route → decoded model → device state change (the keys that changed) →
listeners → entities. Device bookkeeping, rejections, listeners, the startup backlog
and the connection's repair issues live in their own modules beside this one.
"""

from collections.abc import Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..availability import Availability
from ..const import CONF_CLIENT_ID, DOMAIN, HUB_DEVICE, SILENCE_CHECK_SECONDS
from ..core.incidents.messages import IncidentCommand, IncidentStatusEcho
from ..core.local.decode import decode
from ..core.local.dedup import EventDeduplicator
from ..core.local.device_state import (
    KEY_CONNECTIVITY,
    KEY_FIRMWARE,
    KEY_MOTION,
    KEY_OCCUPANCY,
    DeviceState,
)
from ..core.local.models import (
    Alert,
    DeviceModel,
    DeviceStatus,
    Event,
    EventType,
    Reading,
    Rejected,
    Rejection,
    Status,
)
from ..core.local.topics import Kind, TopicRouter
from ..core.mqtt.backoff import Backoff
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import MqttError
from ..identifiers import hub_device_info
from ..incidents.manager import KEY_INCIDENT, KEY_INCIDENT_EVENT, IncidentManager
from ..listeners import Listeners
from ..runtime import EntryKind
from .alerts import AlertLog
from .backlog import StartupBacklog
from .commands import publish_quietly, send_command
from .connection import broker_name, broker_settings
from .devices import DeviceBook
from .errors import setup_error
from .issues import ConnectionIssues
from .momentary import OffTimers
from .options import BrokerOptions
from .quarantine import Quarantine
from .subscriptions import subscribe_all

# Hub-device entity keys.
KEY_BROKER = "broker_connection"
KEY_REJECTED = "rejected_messages"
KEY_FLEET = "fleet"
MOMENTARY_KEYS = frozenset({KEY_MOTION, KEY_OCCUPANCY})
INCIDENT_KEYS = frozenset({KEY_INCIDENT, KEY_INCIDENT_EVENT})
ALWAYS_AVAILABLE = frozenset({KEY_CONNECTIVITY})
# The DHT11 family names its one device itself: the id pattern is not applied to it.
DHT11_KINDS = frozenset({Kind.DHT11_DATA, Kind.DHT11_STATUS, Kind.DHT11_INCIDENTS})


type BrokerConfigEntry = ConfigEntry[BrokerRuntime]


class BrokerRuntime:
    """Connects one MQTT broker to Home Assistant entities."""

    kind: EntryKind = EntryKind.BROKER
    platforms: tuple[Platform, ...] = (Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR)

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        options = BrokerOptions.from_options(entry.options)
        self.tls_dir = Path(hass.config.path(".storage", DOMAIN, entry.entry_id))
        settings = broker_settings(
            entry.data,
            client_id=entry.data[CONF_CLIENT_ID],
            tls_dir=self.tls_dir,
            clean_session=options.clean_session,
        )
        self.router = TopicRouter(options.bases)
        self.issues = ConnectionIssues(hass, entry, self.name, settings, self.router.bases)
        self._backlog = StartupBacklog(self._dispatch)
        self.client = MqttClient(
            settings,
            on_message=self._backlog.on_message,
            on_connection_change=self._on_connection_change,
            on_auth_failed=self.issues.auth_failed,
            on_attempt_failed=self.issues.attempt_failed,
            on_takeover=self.issues.taken_over,
            backoff=Backoff(),
        )
        self.grace = options.grace
        self.offline_timeout = options.offline_timeout
        self.off_delay = options.off_delay
        self.devices = DeviceBook(
            hass,
            entry.entry_id,
            broker=self.name,
            max_devices=options.max_devices,
            pattern=options.pattern,
        )
        # Topic filters the broker refused at setup (its ACL), for the repair issue.
        self.refused_subscriptions: list[str] = []
        self.listeners = Listeners()
        self.availability = Availability(
            hass, self.grace, lambda: self.client.connected, self.listeners.notify_all
        )
        self.quarantine = Quarantine(self.name)
        self.alerts = AlertLog()
        self.incidents = IncidentManager(
            hass,
            entry,
            notify=self.listeners.notify,
            publish=self._publish_incident if options.publish_incidents else None,
            device_lookup=self.devices.registry_name,
        )
        self.unrouted = 0
        self._dedup = EventDeduplicator()
        self._off_timers = OffTimers(hass, self._turn_off)
        self._silence_cancel: CALLBACK_TYPE | None = None
        self._started = dt_util.utcnow()

    @property
    def name(self) -> str:
        """Broker address as shown to the user."""
        return broker_name(self.entry.data)

    # ------------------------------------------------------------ lifecycle

    async def async_start(self) -> None:
        """Connect and subscribe, or raise what Home Assistant expects at setup.

        A subscription the broker refuses (its ACL) does not fail the setup: the
        connection works, the other families do, and a repair issue names the topics.
        """
        self.issues.starting()
        try:
            await self.client.connect()
            refused = await subscribe_all(self.client, self.router.subscriptions, self.name)
        except MqttError as err:
            await self.client.close()
            self.issues.setup_failed(error := setup_error(err, self.name))
            raise error from err
        self.refused_subscriptions = refused
        self.issues.subscribed(refused)
        self.availability.available = True
        self._started = dt_util.utcnow()
        self.devices.restore()
        self.devices.check_room()
        await self.incidents.async_load()

    async def async_platforms_ready(self) -> None:
        """Replay what arrived while the platforms were being set up; start timers."""
        self._silence_cancel = async_track_time_interval(
            self.hass,
            self._check_silence,
            timedelta(seconds=SILENCE_CHECK_SECONDS),
            name="iot_hub silent devices",
        )
        await self._backlog.replay()

    async def async_stop(self) -> None:
        """Close the connection and cancel timers."""
        self.availability.stop()
        # Unloaded (or removed): its repair issues no longer apply; a new setup raises
        # them again if they still do.
        self.devices.stop()
        if self._silence_cancel is not None:
            self._silence_cancel()
            self._silence_cancel = None
        self._off_timers.cancel_all()
        await self.incidents.async_stop()
        await self.client.close()
        self.issues.stop()

    # ------------------------------------------------------------ devices

    def hub_device_info(self) -> DeviceInfo:
        """Return the device that stands for the broker connection itself."""
        return hub_device_info(self.entry_id, f"IoT Hub {self.name}", "IoT Hub", "MQTT broker")

    def device_info(self, device_id: str) -> DeviceInfo:
        """Registry information of the hub or of a device seen on the broker."""
        if device_id == HUB_DEVICE:
            return self.hub_device_info()
        return self.devices.device_info(device_id)

    @callback
    def forget_device(self, device_id: str) -> bool:
        """Drop a device the user deleted; it comes back if it publishes again."""
        self.devices.forget(device_id)
        self.incidents.forget_device(device_id)
        self._off_timers.cancel_device(device_id)
        self.listeners.notify(HUB_DEVICE, (KEY_FLEET,))
        return True

    def entity_available(self, device_id: str, key: str) -> bool:
        """Whether an entity of the device has a meaningful state now.

        Measurements go stale when the device is offline or silent; momentary
        events (PIR, mat) are silent by nature, so only an explicit offline
        status hides them. Connectivity is the one telling, so it always shows.
        """
        if device_id == HUB_DEVICE or key in INCIDENT_KEYS:
            # Incidents are ours, not the device's: known whatever the connection.
            return True
        if not self.availability.available:
            return False
        state = self.devices.get(device_id)
        if state is None or key in ALWAYS_AVAILABLE:
            return True
        if key in MOMENTARY_KEYS:
            return state.status is not DeviceStatus.OFFLINE
        return state.online is not False

    @callback
    def restore_momentary(self, device_id: str, key: str, changed_at: datetime) -> bool:
        """Tell whether a motion/occupancy sensor that was on before a restart still is.

        On only while its off delay has not passed since it turned on; then the
        off timer is armed for what remains, so it cannot stay on forever.
        """
        state = self.devices.get(device_id)
        if state is None:
            return False
        return self._off_timers.restore(
            state, key, self.off_delay - (dt_util.utcnow() - changed_at).total_seconds()
        )

    # ------------------------------------------------------------ messages

    @callback
    def _dispatch(self, topic: str, payload: bytes) -> None:
        route = self.router.route(topic)
        if route is None:
            self.unrouted += 1
            return
        result = decode(route, payload)
        if isinstance(result, Rejected):
            self._reject(topic, payload, result)
            return
        if isinstance(result, IncidentStatusEcho):
            return  # a status publication (ours heard back, or the users' system's)
        if result.device_id == HUB_DEVICE:
            self._reject(topic, payload, Rejected(Rejection.INVALID_DEVICE_ID, HUB_DEVICE))
            return
        if not isinstance(result, IncidentCommand) and (
            refused := self.devices.admit(
                result.device_id, check_pattern=route.kind not in DHT11_KINDS
            )
        ):
            # A new device beyond the bound or not matching the allowed ids: refused whole.
            self._reject(topic, payload, refused)
            return
        self.listeners.begin_message()
        try:
            if isinstance(result, Reading):
                self._apply_reading(result)
            elif isinstance(result, Event):
                self._apply_event(topic, payload, result)
            elif isinstance(result, Status):
                self._apply_status(result)
            elif isinstance(result, Alert):
                self._apply_alert(topic, result)
            else:
                self.incidents.command(result)
        finally:
            self.listeners.end_message()

    @callback
    def _seen(self, device_id: str) -> tuple[DeviceState, set[str]]:
        state, changed, new = self.devices.seen(device_id, dt_util.utcnow())
        if new or KEY_CONNECTIVITY in changed:
            self._connectivity_changed(state)
        return state, changed

    @callback
    def _connectivity_changed(self, state: DeviceState) -> None:
        self.listeners.notify(HUB_DEVICE, (KEY_FLEET,))
        self.incidents.device_status(state.device_id, state.online is not False)

    @callback
    def _apply_reading(self, reading: Reading) -> None:
        state, changed = self._seen(reading.device_id)
        learned = state.learn(reading.model, reading.firmware)
        changed |= state.apply_reading(reading)
        self._publish(state, changed, reading.values.keys(), learned)
        # The time the message was received (set by _seen): one clock read per message.
        assert state.last_seen is not None
        self.incidents.reading(reading.device_id, reading.values, state.last_seen)

    @callback
    def _apply_status(self, status: Status) -> None:
        state, changed = self._seen(status.device_id)
        learned = state.learn(None, status.firmware)
        status_changed = state.apply_status(status)
        if KEY_CONNECTIVITY in status_changed and KEY_CONNECTIVITY not in changed:
            self._connectivity_changed(state)
        changed |= status_changed
        self._publish(state, changed, status.values.keys(), learned)

    @callback
    def _apply_event(self, topic: str, payload: bytes, event: Event) -> None:
        if self._dedup.seen(event.event_id):
            # QoS 1 redelivery (or a device resending): one event, counted once.
            self._reject(topic, payload, Rejected(Rejection.DUPLICATE, event.event_id))
            return
        state, changed = self._seen(event.device_id)
        model = (
            DeviceModel.PIR if event.type is EventType.MOTION_DETECTED else DeviceModel.PRESSURE_MAT
        )
        learned = state.model is None and state.learn(model, None)
        key = state.apply_event(event)
        # The state (on/off) and the event itself (each one fires the event entity).
        changed.update((key, f"{key}_event"))
        self._publish(state, changed, (key,), learned)
        if state.event_on(key):
            self._off_timers.schedule(event.device_id, key, self.off_delay)
        else:
            self._off_timers.cancel(event.device_id, key)

    @callback
    def _apply_alert(self, topic: str, alert: Alert) -> None:
        state, changed = self._seen(alert.device_id)
        self._publish(state, changed, (), False)
        self.alerts.add(topic, alert, dt_util.utcnow())
        self.incidents.alert(alert.device_id, alert.level, alert.message)

    @callback
    def _publish(
        self, state: DeviceState, changed: set[str], keys: Collection[str], learned: bool
    ) -> None:
        """Announce new entities, update the registry, and notify changed values."""
        device_id = state.device_id
        existed = self.devices.has_entities(device_id)
        if learned and state.firmware is not None:
            changed.add(KEY_FIRMWARE)
        if KEY_CONNECTIVITY in changed:
            # Availability of all the device's entities follows its reachability.
            changed.update(self.devices.entity_keys(device_id))
        if new := self.devices.new_keys(state, keys):
            self.listeners.new_entities(device_id, new)
        if learned and existed:
            self.devices.sync_registry(device_id)
        self.listeners.notify(device_id, changed)

    # ------------------------------------------------------------ timers

    @callback
    def _turn_off(self, device_id: str, key: str) -> None:
        if (state := self.devices.get(device_id)) is not None:
            state.end_event(key)
            self.listeners.notify(device_id, (key,))

    @callback
    def _check_silence(self, now: datetime) -> None:
        """Mark devices that stayed silent for the offline timeout as offline."""
        for state in self.devices.silent_since(now - self.offline_timeout, self._started):
            self.listeners.notify(state.device_id, self.devices.entity_keys(state.device_id))
            self._connectivity_changed(state)

    @callback
    def _reject(self, topic: str, payload: bytes, rejected: Rejected) -> None:
        self.quarantine.reject(topic, payload, rejected, dt_util.utcnow())
        self.listeners.notify(HUB_DEVICE, (KEY_REJECTED,))

    @callback
    def _on_connection_change(self, connected: bool) -> None:
        self.availability.connection_changed(connected)
        self.issues.connection_changed(connected)
        self.listeners.notify(HUB_DEVICE, (KEY_BROKER,))

    async def async_send_command(self, device_id: str, payload: bytes) -> None:
        """Publish a command to one of the broker's devices; raise translated errors."""
        await send_command(self.client, self.router, device_id, payload)

    @callback
    def _publish_incident(self, which: str, payload: bytes) -> None:
        """Publish an incident change on the DHT11 family's topic, in the background."""
        if (topic := self.router.incident_topic(which)) is not None:
            self.entry.async_create_background_task(
                self.hass, publish_quietly(self.client, topic, payload), f"iot_hub {which}"
            )

    @property
    def early_dropped(self) -> int:
        """Messages dropped because too many arrived before the platforms were ready."""
        return self._backlog.dropped
