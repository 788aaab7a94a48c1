"""The runtime object of a broker entry: client, routing, device states, listeners."""

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
import logging
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import CALLBACK_TYPE, Context, Event as HassEvent, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_AVAILABILITY_GRACE,
    CONF_CLEAN_SESSION,
    CONF_CLIENT_ID,
    CONF_EVENT_OFF_DELAY,
    CONF_OFFLINE_TIMEOUT,
    DEFAULT_AVAILABILITY_GRACE,
    DEFAULT_EVENT_OFF_DELAY,
    DEFAULT_OFFLINE_TIMEOUT,
    DOMAIN,
    HUB_DEVICE,
    SILENCE_CHECK_SECONDS,
)
from ..core.local.dedup import EventDeduplicator
from ..core.local.device_state import (
    KEY_CONNECTIVITY,
    KEY_FIRMWARE,
    KEY_LAST_SEEN,
    KEY_MOTION,
    KEY_OCCUPANCY,
    MANUFACTURERS,
    DeviceState,
)
from ..core.local.dht11 import DHT11_DEVICE_ID, decode_dht11, decode_dht11_status
from ..core.local.events import decode_event
from ..core.local.iot import decode_iot_alert, decode_iot_data, decode_iot_status
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
from ..core.local.redact import payload_sample
from ..core.local.topics import Kind, Route, TopicRouter
from ..core.mqtt.backoff import Backoff
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import MqttConnectError, MqttError
from .connection import broker_settings
from .families import family_bases

_LOGGER = logging.getLogger(__name__)

type IotHubConfigEntry = ConfigEntry[IotHub]
type Listener = Callable[[], None]
type NewEntitiesListener = Callable[[str, set[str]], None]

# Messages that arrive before the platforms are ready (a persistent session
# delivers its queue right after CONNACK) wait here, up to this many.
MAX_EARLY_MESSAGES = 10_000
REJECTED_SAMPLES = 10
ALERT_SAMPLES = 10
SAMPLE_BYTES = 256
LOG_PERIOD = timedelta(hours=1)
# Hub-device entity keys.
KEY_BROKER = "broker_connection"
KEY_REJECTED = "rejected_messages"
KEY_FLEET = "fleet"
# Keys every device gets on its first message.
BASE_KEYS = frozenset({KEY_CONNECTIVITY, KEY_LAST_SEEN})


class IotHub:
    """Connects one broker to Home Assistant entities."""

    def __init__(self, hass: HomeAssistant, entry: IotHubConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        options = dict(entry.options)
        self.tls_dir = Path(hass.config.path(".storage", DOMAIN, entry.entry_id))
        settings = broker_settings(
            entry.data,
            client_id=entry.data[CONF_CLIENT_ID],
            tls_dir=self.tls_dir,
            clean_session=options.get(CONF_CLEAN_SESSION, False),
        )
        self.client = MqttClient(
            settings,
            on_message=self._on_message,
            on_connection_change=self._on_connection_change,
            on_auth_failed=self._on_auth_failed,
            backoff=Backoff(),
        )
        self.router = TopicRouter(family_bases(options))
        self.grace = float(options.get(CONF_AVAILABILITY_GRACE, DEFAULT_AVAILABILITY_GRACE))
        self.offline_timeout = timedelta(
            minutes=float(options.get(CONF_OFFLINE_TIMEOUT, DEFAULT_OFFLINE_TIMEOUT))
        )
        self.off_delay = float(options.get(CONF_EVENT_OFF_DELAY, DEFAULT_EVENT_OFF_DELAY))
        self.available = False
        self.hub_device_id: str | None = None
        self.devices: dict[str, DeviceState] = {}
        self.rejections: Counter[str] = Counter()
        self.rejected_samples: deque[dict[str, Any]] = deque(maxlen=REJECTED_SAMPLES)
        self.alerts: deque[dict[str, Any]] = deque(maxlen=ALERT_SAMPLES)
        self.alerts_received = 0
        self.unrouted = 0
        self._dedup = EventDeduplicator()
        # One log line per rejection reason per LOG_PERIOD, never one per message.
        self._logged_reasons: dict[str, datetime] = {}
        self._unlogged: Counter[str] = Counter()
        self._entity_keys: dict[str, set[str]] = defaultdict(set)
        # Tuples, replaced on change: notifying iterates them without a copy.
        self._listeners: dict[tuple[str, str], tuple[Listener, ...]] = {}
        self._new_entities_listeners: list[NewEntitiesListener] = []
        self._early: list[tuple[str, bytes]] | None = []
        self._early_dropped = 0
        self._in_message = False
        self._message_context: Context | None = None
        self._grace_cancel: CALLBACK_TYPE | None = None
        self._off_timers: dict[tuple[str, str], CALLBACK_TYPE] = {}
        self._silence_cancel: CALLBACK_TYPE | None = None
        self._started = dt_util.utcnow()

    @property
    def name(self) -> str:
        """Broker address as shown to the user."""
        return f"{self.entry.data[CONF_HOST]}:{self.entry.data[CONF_PORT]}"

    # ------------------------------------------------------------ lifecycle

    async def async_start(self) -> None:
        """Connect and subscribe, or raise what Home Assistant expects at setup."""
        try:
            await self.client.connect()
            for topic in self.router.subscriptions:
                await self.client.subscribe(topic, 1)
        except MqttConnectError as err:
            await self.client.close()
            placeholders = {"broker": self.name, "reason": err.reason.value}
            if err.is_auth:
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN,
                    translation_key="invalid_auth",
                    translation_placeholders=placeholders,
                ) from err
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders=placeholders,
            ) from err
        except MqttError as err:
            await self.client.close()
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"broker": self.name, "reason": str(err)},
            ) from err
        self.available = True
        self._started = dt_util.utcnow()

    @callback
    def async_restore_devices(self) -> None:
        """Know the devices seen before this start (from the device registry)."""
        prefix = f"{self.entry_id}_"
        for device in dr.async_entries_for_config_entry(dr.async_get(self.hass), self.entry_id):
            for domain, identifier in device.identifiers:
                if domain == DOMAIN and identifier.startswith(prefix):
                    device_id = identifier.removeprefix(prefix)
                    self.devices.setdefault(device_id, DeviceState(device_id))

    @callback
    def async_platforms_ready(self) -> None:
        """Replay what arrived while the platforms were being set up; start timers."""
        self._silence_cancel = async_track_time_interval(
            self.hass,
            self._check_silence,
            timedelta(seconds=SILENCE_CHECK_SECONDS),
            name="iot_hub silent devices",
        )
        early, self._early = self._early, None
        for topic, payload in early or ():
            self._dispatch(topic, payload)

    async def async_on_homeassistant_stop(self, _event: HassEvent) -> None:
        """Disconnect when Home Assistant shuts down."""
        await self.async_stop()

    async def async_stop(self) -> None:
        """Close the connection and cancel timers."""
        self._cancel_grace()
        if self._silence_cancel is not None:
            self._silence_cancel()
            self._silence_cancel = None
        for cancel in self._off_timers.values():
            cancel()
        self._off_timers.clear()
        await self.client.close()

    # ------------------------------------------------------------ listeners

    @callback
    def async_add_listener(self, device_id: str, key: str, listener: Listener) -> CALLBACK_TYPE:
        """Call `listener` when this value of the device or its availability changes."""
        which = (device_id, key)
        self._listeners[which] = (*self._listeners.get(which, ()), listener)

        def remove() -> None:
            if remaining := tuple(x for x in self._listeners.get(which, ()) if x is not listener):
                self._listeners[which] = remaining
            else:
                self._listeners.pop(which, None)

        return remove

    @callback
    def async_add_new_entities_listener(self, listener: NewEntitiesListener) -> CALLBACK_TYPE:
        """Call `listener(device_id, keys)` when a device reports values it never had."""
        self._new_entities_listeners.append(listener)
        return lambda: self._new_entities_listeners.remove(listener)

    @callback
    def mark_known(self, device_id: str, key: str) -> None:
        """Record that an entity for this value exists (restored at setup)."""
        self._entity_keys[device_id].add(key)

    @callback
    def forget_device(self, device_id: str) -> None:
        """Drop a device the user deleted; it comes back if it publishes again."""
        self.devices.pop(device_id, None)
        self._entity_keys.pop(device_id, None)
        for key in [key for key in self._off_timers if key[0] == device_id]:
            self._off_timers.pop(key)()
        self._notify(HUB_DEVICE, {KEY_FLEET})

    def device(self, device_id: str) -> DeviceState | None:
        """State of a device, if known."""
        return self.devices.get(device_id)

    def value(self, device_id: str, key: str) -> float | None:
        """Last value of `key` reported by the device, if any."""
        device = self.devices.get(device_id)
        return device.values.get(key) if device else None

    def entity_available(self, device_id: str, key: str) -> bool:
        """Whether an entity of the device has a meaningful state now.

        Measurements go stale when the device is offline or silent; momentary
        events (PIR, mat) are silent by nature, so only an explicit offline
        status hides them. Connectivity is the one telling, so it always shows.
        """
        if device_id == HUB_DEVICE:
            return True
        if not self.available:
            return False
        state = self.devices.get(device_id)
        if state is None or key == KEY_CONNECTIVITY:
            return True
        if key in (KEY_MOTION, KEY_OCCUPANCY):
            return state.status is not DeviceStatus.OFFLINE
        return state.online is not False

    def restored_entities(self, domain: str, keys: Iterable[str]) -> list[tuple[str, str]]:
        """(device_id, key) of this entry's registered entities of `domain`."""
        prefix = f"{self.entry_id}_"
        keys = tuple(keys)
        found = []
        registry = er.async_get(self.hass)
        for entry in er.async_entries_for_config_entry(registry, self.entry_id):
            if entry.domain != domain or not entry.unique_id.startswith(prefix):
                continue
            rest = entry.unique_id.removeprefix(prefix)
            for key in keys:
                device_id = rest.removesuffix(f"_{key}")
                if device_id not in (rest, HUB_DEVICE):
                    found.append((device_id, key))
                    break
        return found

    # ------------------------------------------------------------ devices

    def hub_device_info(self) -> DeviceInfo:
        """Return the device that stands for the broker connection itself."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.entry_id)},
            name=f"IoT Hub {self.name}",
            manufacturer="IoT Hub",
            model="MQTT broker",
            entry_type=DeviceEntryType.SERVICE,
        )

    def device_info(self, device_id: str) -> DeviceInfo:
        """Registry information of a device seen on the broker."""
        if device_id == HUB_DEVICE:
            return self.hub_device_info()
        info = DeviceInfo(
            identifiers={(DOMAIN, f"{self.entry_id}_{device_id}")},
            name="DHT11" if device_id == DHT11_DEVICE_ID else device_id,
        )
        if (state := self.devices.get(device_id)) is not None:
            if state.model is not None:
                info["model"] = str(state.model)
                if (manufacturer := MANUFACTURERS.get(state.model)) is not None:
                    info["manufacturer"] = manufacturer
            if state.firmware is not None:
                info["sw_version"] = str(state.firmware)
        if self.hub_device_id is not None:
            info["via_device_id"] = self.hub_device_id
        return info

    @callback
    def _sync_registry(self, device_id: str) -> None:
        """Push a newly learned model/firmware to an existing registry device."""
        registry = dr.async_get(self.hass)
        entry = registry.async_get_device_by_identifier(
            (DOMAIN, f"{self.entry_id}_{device_id}"), self.entry_id
        )
        state = self.devices[device_id]
        if entry is None:
            return
        model = str(state.model) if state.model is not None else None
        registry.async_update_device(
            entry.id,
            model=model,
            manufacturer=MANUFACTURERS.get(state.model) if state.model else None,
            sw_version=state.firmware,
        )

    # ------------------------------------------------------------ messages

    @callback
    def _on_message(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if self._early is not None:
            if len(self._early) < MAX_EARLY_MESSAGES:
                self._early.append((topic, payload))
            else:
                self._early_dropped += 1
            return
        self._dispatch(topic, payload)

    @callback
    def _dispatch(self, topic: str, payload: bytes) -> None:
        route = self.router.route(topic)
        if route is None:
            self.unrouted += 1
            return
        self._in_message = True
        try:
            self._handle(topic, payload, route)
        finally:
            self._in_message = False
            self._message_context = None

    @callback
    def message_context(self) -> Context | None:
        """Return the context of the message being handled (None outside one).

        Every state a message changes shares it: automations and the logbook see
        one cause, and Home Assistant links it to one event instead of one per
        state (each link is a reference cycle its garbage collector must free).
        """
        if self._message_context is None and self._in_message:
            self._message_context = Context()
        return self._message_context

    @callback
    def _handle(self, topic: str, payload: bytes, route: Route) -> None:
        result = self._decode(route, payload)
        if getattr(result, "device_id", None) == HUB_DEVICE:
            result = Rejected(Rejection.INVALID_DEVICE_ID, HUB_DEVICE)
        if isinstance(result, Rejected):
            self._reject(topic, payload, result)
        elif isinstance(result, Reading):
            self._apply_reading(result)
        elif isinstance(result, Event):
            self._apply_event(topic, payload, result)
        elif isinstance(result, Status):
            self._apply_status(result)
        else:
            self._apply_alert(topic, result)

    @staticmethod
    def _decode(route: Route, payload: bytes) -> Reading | Event | Status | Alert | Rejected:
        device_id = route.device_id or ""
        match route.kind:
            case Kind.DHT11_DATA:
                return decode_dht11(payload)
            case Kind.DHT11_STATUS:
                return decode_dht11_status(payload)
            case Kind.EVENT:
                return decode_event(payload)
            case Kind.IOT_DATA:
                return decode_iot_data(device_id, payload)
            case Kind.IOT_STATUS:
                return decode_iot_status(device_id, payload)
            case Kind.IOT_ALERT:
                return decode_iot_alert(device_id, payload)

    @callback
    def _device(self, device_id: str) -> tuple[DeviceState, set[str]]:
        """Return the device's state and the keys a message changed by arriving."""
        state = self.devices.get(device_id)
        new = state is None
        if state is None:
            state = self.devices[device_id] = DeviceState(device_id)
        changed = state.seen(dt_util.utcnow())
        if new and KEY_CONNECTIVITY not in changed:
            self._notify(HUB_DEVICE, {KEY_FLEET})
        self._follow_connectivity(device_id, changed)
        return state, changed

    @callback
    def _follow_connectivity(self, device_id: str, changed: set[str]) -> None:
        """When reachability changed, recount the fleet and refresh every entity."""
        if KEY_CONNECTIVITY in changed:
            self._notify(HUB_DEVICE, {KEY_FLEET})
            # Availability of all the device's entities follows its reachability.
            changed |= self._entity_keys.get(device_id, set())

    @callback
    def _apply_reading(self, reading: Reading) -> None:
        state, changed = self._device(reading.device_id)
        learned = state.learn(reading.model, reading.firmware)
        changed |= state.apply_reading(reading)
        self._publish(reading.device_id, changed, reading.values.keys(), learned, state)

    @callback
    def _apply_status(self, status: Status) -> None:
        state, changed = self._device(status.device_id)
        learned = state.learn(None, status.firmware)
        status_changed = state.apply_status(status)
        self._follow_connectivity(status.device_id, status_changed)
        changed |= status_changed
        self._publish(status.device_id, changed, set(status.values), learned, state)

    @callback
    def _apply_event(self, topic: str, payload: bytes, event: Event) -> None:
        if self._dedup.seen(event.event_id):
            # QoS 1 redelivery (or a device resending): one event, counted once.
            self._reject(topic, payload, Rejected(Rejection.DUPLICATE, event.event_id))
            return
        state, changed = self._device(event.device_id)
        model = (
            DeviceModel.PIR if event.type is EventType.MOTION_DETECTED else DeviceModel.PRESSURE_MAT
        )
        learned = state.model is None and state.learn(model, None)
        key = state.apply_event(event)
        changed.add(key)
        self._publish(event.device_id, changed, {key}, learned, state)
        self._schedule_off(event.device_id, key, on=getattr(state, key) is True)

    @callback
    def _apply_alert(self, topic: str, alert: Alert) -> None:
        # Incidents come later; until then alerts are counted and kept for diagnostics.
        self.alerts_received += 1
        self.alerts.append(
            {
                "time": dt_util.utcnow().isoformat(),
                "topic": topic,
                "device_id": alert.device_id,
                "level": alert.level,
                "message": alert.message,
            }
        )

    @callback
    def _publish(
        self,
        device_id: str,
        changed: set[str],
        entity_keys: Collection[str],
        learned: bool,
        state: DeviceState,
    ) -> None:
        """Announce new entities, update the registry, and notify changed values."""
        firmware = state.firmware is not None
        if firmware and learned:
            changed.add(KEY_FIRMWARE)
        known = self._entity_keys[device_id]
        existed = bool(known)
        # Nearly every message: nothing new (checked without building sets).
        if not (
            known.issuperset(entity_keys)
            and known.issuperset(BASE_KEYS)
            and (not firmware or KEY_FIRMWARE in known)
        ):
            new_keys = (
                BASE_KEYS | set(entity_keys) | ({KEY_FIRMWARE} if firmware else set())
            ) - known
            known.update(new_keys)
            for new_listener in list(self._new_entities_listeners):
                new_listener(device_id, set(new_keys))
        if learned and existed:
            self._sync_registry(device_id)
        self._notify(device_id, changed)

    @callback
    def _notify(self, device_id: str, keys: Iterable[str]) -> None:
        listeners = self._listeners
        for key in keys:
            for listener in listeners.get((device_id, key), ()):
                listener()

    @callback
    def _notify_device(self, device_id: str) -> None:
        self._notify(device_id, self._entity_keys.get(device_id, ()))

    @callback
    def _schedule_off(self, device_id: str, key: str, *, on: bool) -> None:
        """Momentary events (PIR, pressure mat) turn off after the configured delay."""
        if (cancel := self._off_timers.pop((device_id, key), None)) is not None:
            cancel()
        if not on:
            return

        @callback
        def turn_off(_now: datetime) -> None:
            self._off_timers.pop((device_id, key), None)
            if (state := self.devices.get(device_id)) is not None:
                setattr(state, key, False)
                self._notify(device_id, {key})

        self._off_timers[(device_id, key)] = async_call_later(self.hass, self.off_delay, turn_off)

    @callback
    def _check_silence(self, now: datetime) -> None:
        """Mark devices that stayed silent for the offline timeout as offline."""
        limit = now - self.offline_timeout
        changed = False
        for device_id, state in self.devices.items():
            if state.silent or (state.last_seen or self._started) > limit:
                continue
            state.silent = True
            changed = True
            self._notify_device(device_id)
        if changed:
            self._notify(HUB_DEVICE, {KEY_FLEET})

    @callback
    def _reject(self, topic: str, payload: bytes, rejected: Rejected) -> None:
        reason = rejected.reason.value
        self.rejections[reason] += 1
        self.rejected_samples.append(
            {
                "time": dt_util.utcnow().isoformat(),
                "topic": topic,
                "reason": reason,
                "detail": rejected.detail[:SAMPLE_BYTES],
                "size": len(payload),
                "payload": payload_sample(payload, SAMPLE_BYTES),
            }
        )
        self._notify(HUB_DEVICE, {KEY_REJECTED})
        now = dt_util.utcnow()
        last = self._logged_reasons.get(reason)
        if last is not None and now - last < LOG_PERIOD:
            self._unlogged[reason] += 1
            return
        self._logged_reasons[reason] = now
        unlogged = self._unlogged.pop(reason, 0)
        _LOGGER.warning(
            "Ignored a message on %s from %s: %s (%s)%s. For an hour, further messages "
            "rejected for this reason are only counted (see the diagnostics)",
            topic,
            self.name,
            reason,
            rejected.detail[:SAMPLE_BYTES] or "no detail",
            f"; {unlogged} more since the last report" if unlogged else "",
        )

    # ------------------------------------------------------------ fleet

    def fleet(self) -> dict[str, int]:
        """Devices known, online and offline (seed 002's status report)."""
        online = sum(1 for state in self.devices.values() if state.online is True)
        offline = sum(1 for state in self.devices.values() if state.online is False)
        return {"total": len(self.devices), "online": online, "offline": offline}

    # ------------------------------------------------------------ availability

    @callback
    def _on_connection_change(self, connected: bool) -> None:
        if connected:
            self._cancel_grace()
            if not self.available:
                self.available = True
                self._notify_all()
        elif self._grace_cancel is None:
            # Keep states through short blips; only a long outage shows.
            self._grace_cancel = async_call_later(self.hass, self.grace, self._grace_expired)
        self._notify(HUB_DEVICE, {KEY_BROKER})

    @callback
    def _grace_expired(self, _now: datetime) -> None:
        self._grace_cancel = None
        if not self.client.connected:
            self.available = False
            self._notify_all()

    def _cancel_grace(self) -> None:
        if self._grace_cancel is not None:
            self._grace_cancel()
            self._grace_cancel = None

    @callback
    def _notify_all(self) -> None:
        for listeners in list(self._listeners.values()):
            for listener in listeners:
                listener()

    @callback
    def _on_auth_failed(self, err: MqttConnectError) -> None:
        self.entry.async_start_reauth(self.hass)

    # ------------------------------------------------------------ diagnostics

    def diagnostics(self) -> dict[str, Any]:
        """Runtime facts for the diagnostics download (no secrets)."""
        stats = self.client.stats
        return {
            "connected": self.client.connected,
            "available": self.available,
            "subscriptions": self.client.subscriptions,
            "families": {family.value: base for family, base in self.router.bases.items()},
            "client": {
                "connects": stats.connects,
                "connection_losses": stats.connection_losses,
                "failed_attempts": stats.failed_attempts,
                "messages_received": stats.messages_received,
                "messages_published": stats.messages_published,
                "undecodable_topics": stats.undecodable_topics,
                "last_error": stats.last_error,
            },
            "early_messages_dropped": self._early_dropped,
            "unrouted_messages": self.unrouted,
            "rejections": dict(self.rejections),
            "rejected_samples": list(self.rejected_samples),
            "alerts_received": self.alerts_received,
            "alerts": list(self.alerts),
            "fleet": self.fleet(),
            "devices": {
                device_id: state.diagnostics() for device_id, state in self.devices.items()
            },
        }
