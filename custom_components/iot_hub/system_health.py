"""System health: what each loaded entry is connected to, what it knows, how busy it is.

One translated line per value (`system_health.info.<key>`). With one entry of a kind, a
line shows its value; with several, "name: value" per entry, joined by "; ". Entries are
named by what the user already sees and nothing secret: a broker by its entry title
(host:port), a ThermoMaven account by its shortened email ("u…@example.com").

Messages per minute: the client counts what it receives; each look at system health keeps
a sample (time, count) per entry, and the rate is the difference from the newest earlier
sample at least a minute old (the oldest one when all are younger, from 10 s on). The
first look after a (re)load has no earlier sample, so the line shows from the next one.
"""

from collections import deque
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Final

from homeassistant.components import system_health
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .broker.runtime import BrokerRuntime
from .const import DOMAIN
from .core.mqtt.client import MqttClient
from .runtime import IotHubConfigEntry
from .thermomaven.runtime import ThermoMavenRuntime

BROKERS: Final = "brokers"
BROKER_CONNECTED: Final = "broker_connected"
DEVICES_KNOWN: Final = "devices_known"
DEVICES_ONLINE: Final = "devices_online"
MESSAGES_RECEIVED: Final = "messages_received"
MESSAGES_PER_MINUTE: Final = "messages_per_minute"
ACCOUNTS: Final = "thermomaven_accounts"
CLOUD_CONNECTED: Final = "cloud_connected"
THERMOMETERS: Final = "thermometers"
PROBES: Final = "probes"
# Every key the info can have, in the order the page shows them.
INFO_KEYS: Final = (
    BROKERS,
    BROKER_CONNECTED,
    DEVICES_KNOWN,
    DEVICES_ONLINE,
    MESSAGES_RECEIVED,
    MESSAGES_PER_MINUTE,
    ACCOUNTS,
    CLOUD_CONNECTED,
    THERMOMETERS,
    PROBES,
)
# The lines naming the entries (the others give a value per entry).
NAME_KEYS: Final = frozenset({BROKERS, ACCOUNTS})

RATE_WINDOW: Final = 60.0
MIN_SPAN: Final = 10.0
MAX_SAMPLES: Final = 64

DATA_SAMPLES: HassKey[dict[str, Samples]] = HassKey(f"{DOMAIN}_system_health_samples")


@dataclass(slots=True)
class Samples:
    """Message counts of one entry's client, each taken when system health was asked."""

    client: MqttClient
    taken: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))

    def rate(self, now: float, count: int) -> int | None:
        """Record (now, count); return messages per minute, or None before a usable sample."""
        taken = self.taken
        taken.append((now, count))
        # Keep one sample at least a window old (the newest such): the rate's start.
        while len(taken) > 1 and taken[1][0] <= now - RATE_WINDOW:
            taken.popleft()
        since, then = taken[0]
        span = now - since
        if span < MIN_SPAN:
            return None
        return round((count - then) * 60 / span)


@callback
def async_register(hass: HomeAssistant, register: system_health.SystemHealthRegistration) -> None:
    """Register the info callback and the integration's page."""
    register.async_register_info(system_health_info, f"/config/integrations/integration/{DOMAIN}")


async def system_health_info(hass: HomeAssistant) -> dict[str, Any]:
    """Describe every loaded entry: connection, devices, messages; or the account's probes."""
    entries: list[IotHubConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    samples = hass.data.setdefault(DATA_SAMPLES, {})
    for gone in samples.keys() - {entry.entry_id for entry in entries}:
        del samples[gone]
    lines = Lines()
    now = monotonic()
    for entry in sorted(entries, key=lambda entry: entry.title):
        runtime = entry.runtime_data
        if isinstance(runtime, BrokerRuntime):
            sampled = samples.get(entry.entry_id)
            if sampled is None or sampled.client is not runtime.client:
                # A reload brings a new client, counting from zero.
                sampled = samples[entry.entry_id] = Samples(runtime.client)
            _broker(lines, entry.title, runtime, sampled.rate(now, _received(runtime)))
        elif isinstance(runtime, ThermoMavenRuntime):
            _account(lines, runtime)
    return lines.info()


class Lines:
    """The values of each line, per entry."""

    def __init__(self) -> None:
        self._values: dict[str, list[tuple[str, Any]]] = {key: [] for key in INFO_KEYS}

    def add(self, key: str, name: str, value: Any) -> None:
        """Add the value of the entry called `name` to the line `key`."""
        self._values[key].append((name, value))

    def info(self) -> dict[str, Any]:
        """Return the lines that have a value, as system health shows them."""
        return {key: _value(key, values) for key, values in self._values.items() if values}


def _received(runtime: BrokerRuntime) -> int:
    return runtime.client.stats.messages_received


def _broker(lines: Lines, name: str, runtime: BrokerRuntime, rate: int | None) -> None:
    fleet = runtime.devices.fleet()
    lines.add(BROKERS, name, name)
    lines.add(BROKER_CONNECTED, name, runtime.client.connected)
    lines.add(DEVICES_KNOWN, name, fleet["total"])
    lines.add(DEVICES_ONLINE, name, fleet["online"])
    lines.add(MESSAGES_RECEIVED, name, _received(runtime))
    if rate is not None:
        lines.add(MESSAGES_PER_MINUTE, name, rate)


def _account(lines: Lines, runtime: ThermoMavenRuntime) -> None:
    name = runtime.session.label
    lines.add(ACCOUNTS, name, name)
    lines.add(CLOUD_CONNECTED, name, runtime.connected)
    lines.add(THERMOMETERS, name, len(runtime.fleet))
    lines.add(PROBES, name, sum(len(device.slots) for device in runtime.fleet))


def _value(key: str, values: list[tuple[str, Any]]) -> Any:
    """Return the one entry's value as it is, or "name: value; …" for several entries."""
    if len(values) == 1:
        return values[0][1]
    if key in NAME_KEYS:
        return ", ".join(name for name, _ in values)
    return "; ".join(f"{name}: {_text(value)}" for name, value in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
