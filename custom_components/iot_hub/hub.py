"""The runtime object of a broker entry: client, device states and listeners."""

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
import logging
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .connection import broker_settings
from .const import (
    CONF_AVAILABILITY_GRACE,
    CONF_CLEAN_SESSION,
    CONF_CLIENT_ID,
    DEFAULT_AVAILABILITY_GRACE,
    DHT11_DEVICE_ID,
    DHT11_TOPIC,
    DOMAIN,
)
from .core.backoff import Backoff
from .core.client import MqttClient
from .core.decoders import Dht11Reading, Rejected, decode_dht11
from .core.errors import MqttConnectError, MqttError

_LOGGER = logging.getLogger(__name__)

type IotHubConfigEntry = ConfigEntry[IotHub]
type Listener = Callable[[], None]
type NewEntitiesListener = Callable[[str, set[str]], None]

# Messages that arrive before the platforms are ready (a persistent session
# delivers its queue right after CONNACK) wait here, up to this many.
MAX_EARLY_MESSAGES = 10_000
REJECTED_SAMPLES = 10
SAMPLE_BYTES = 256


@dataclass(slots=True)
class DeviceState:
    """Last known values of one device."""

    device_id: str
    values: dict[str, float] = field(default_factory=dict)
    last_seen: datetime | None = None


class IotHub:
    """Connects one broker to Home Assistant entities."""

    def __init__(self, hass: HomeAssistant, entry: IotHubConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.entry_id = entry.entry_id
        self.tls_dir = Path(hass.config.path(".storage", DOMAIN, entry.entry_id))
        settings = broker_settings(
            entry.data,
            client_id=entry.data[CONF_CLIENT_ID],
            tls_dir=self.tls_dir,
            clean_session=entry.options.get(CONF_CLEAN_SESSION, False),
        )
        self.client = MqttClient(
            settings,
            on_message=self._on_message,
            on_connection_change=self._on_connection_change,
            on_auth_failed=self._on_auth_failed,
            backoff=Backoff(),
        )
        self.grace = float(entry.options.get(CONF_AVAILABILITY_GRACE, DEFAULT_AVAILABILITY_GRACE))
        self.available = False
        self.hub_device_id: str | None = None
        self.devices: dict[str, DeviceState] = {}
        self.rejections: Counter[str] = Counter()
        self.rejected_samples: deque[dict[str, Any]] = deque(maxlen=REJECTED_SAMPLES)
        self._logged_reasons: set[str] = set()
        self._entity_keys: dict[str, set[str]] = defaultdict(set)
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._hub_listeners: list[Listener] = []
        self._new_entities_listeners: list[NewEntitiesListener] = []
        self._early: list[tuple[str, bytes]] | None = []
        self._early_dropped = 0
        self._grace_cancel: CALLBACK_TYPE | None = None

    @property
    def name(self) -> str:
        """Broker address as shown to the user."""
        return f"{self.entry.data[CONF_HOST]}:{self.entry.data[CONF_PORT]}"

    # ------------------------------------------------------------ lifecycle

    async def async_start(self) -> None:
        """Connect and subscribe, or raise what Home Assistant expects at setup."""
        try:
            await self.client.connect()
            await self.client.subscribe(DHT11_TOPIC, 1)
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

    @callback
    def async_platforms_ready(self) -> None:
        """Replay what arrived while the platforms were being set up."""
        early, self._early = self._early, None
        for topic, payload in early or ():
            self._dispatch(topic, payload)

    async def async_on_homeassistant_stop(self, _event: Event) -> None:
        """Disconnect when Home Assistant shuts down."""
        await self.async_stop()

    async def async_stop(self) -> None:
        """Close the connection and cancel timers."""
        self._cancel_grace()
        await self.client.close()

    # ------------------------------------------------------------ listeners

    @callback
    def async_add_listener(self, device_id: str, listener: Listener) -> CALLBACK_TYPE:
        """Call `listener` when the device's values or the hub's availability change."""
        self._listeners[device_id].append(listener)
        return lambda: self._listeners[device_id].remove(listener)

    @callback
    def async_add_hub_listener(self, listener: Listener) -> CALLBACK_TYPE:
        """Call `listener` when the broker connection goes up or down."""
        self._hub_listeners.append(listener)
        return lambda: self._hub_listeners.remove(listener)

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

    def value(self, device_id: str, key: str) -> float | None:
        """Last value of `key` reported by the device, if any."""
        device = self.devices.get(device_id)
        return device.values.get(key) if device else None

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
                if rest.endswith(f"_{key}"):
                    found.append((rest.removesuffix(f"_{key}"), key))
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
        info = DeviceInfo(identifiers={(DOMAIN, f"{self.entry_id}_{device_id}")}, name=device_id)
        if device_id == DHT11_DEVICE_ID:
            info["name"] = info["model"] = "DHT11"
            info["manufacturer"] = "Aosong"
        if self.hub_device_id is not None:
            info["via_device_id"] = self.hub_device_id
        return info

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
        if topic == DHT11_TOPIC:
            result = decode_dht11(payload)
            if isinstance(result, Rejected):
                self._reject(topic, payload, result)
            else:
                self._update_dht11(result)

    @callback
    def _update_dht11(self, reading: Dht11Reading) -> None:
        values = {
            key: value
            for key, value in (("temperature", reading.temperature), ("humidity", reading.humidity))
            if value is not None
        }
        self._update(DHT11_DEVICE_ID, values)

    @callback
    def _update(self, device_id: str, values: dict[str, float]) -> None:
        device = self.devices.get(device_id)
        if device is None:
            device = self.devices[device_id] = DeviceState(device_id)
        device.values.update(values)
        device.last_seen = dt_util.utcnow()
        known = self._entity_keys[device_id]
        if new_keys := values.keys() - known:
            known.update(new_keys)
            for new_listener in list(self._new_entities_listeners):
                new_listener(device_id, set(new_keys))
        for listener in list(self._listeners.get(device_id, ())):
            listener()

    @callback
    def _reject(self, topic: str, payload: bytes, rejected: Rejected) -> None:
        reason = rejected.reason.value
        self.rejections[reason] += 1
        self.rejected_samples.append(
            {
                "time": dt_util.utcnow().isoformat(),
                "topic": topic,
                "reason": reason,
                "detail": rejected.detail,
                "size": len(payload),
                "payload": payload[:SAMPLE_BYTES].decode("utf-8", "replace"),
            }
        )
        if reason not in self._logged_reasons:
            self._logged_reasons.add(reason)
            _LOGGER.warning(
                "Ignored a message on %s from %s: %s (%s). Further messages rejected "
                "for this reason are only counted (see the diagnostics)",
                topic,
                self.name,
                reason,
                rejected.detail or "no detail",
            )

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
        for listener in list(self._hub_listeners):
            listener()

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
            for listener in list(listeners):
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
            "rejections": dict(self.rejections),
            "rejected_samples": list(self.rejected_samples),
            "devices": {
                device_id: {
                    "values": dict(state.values),
                    "last_seen": state.last_seen.isoformat() if state.last_seen else None,
                }
                for device_id, state in self.devices.items()
            },
        }
