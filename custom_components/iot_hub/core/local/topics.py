"""Topic families (DHT11, event envelopes, IoT platform) and routing a topic to its decoder.

Imports nothing but the standard library: scripts/simulator.py loads this file by its path.
"""

from dataclasses import dataclass
from enum import StrEnum
import sys


class Family(StrEnum):
    """The three message layouts IoT Hub understands."""

    DHT11 = "dht11"
    EVENTS = "events"
    IOT = "iot"


DEFAULT_BASES: dict[Family, str] = {
    Family.DHT11: "dht11",
    Family.EVENTS: "sensor",
    Family.IOT: "iot",
}


class Kind(StrEnum):
    """What a topic carries."""

    DHT11_DATA = "dht11_data"
    DHT11_STATUS = "dht11_status"
    DHT11_INCIDENTS = "dht11_incidents"
    EVENT = "event"
    IOT_DATA = "iot_data"
    IOT_STATUS = "iot_status"
    IOT_ALERT = "iot_alert"


FAMILY_OF_KIND: dict[Kind, Family] = {
    Kind.DHT11_DATA: Family.DHT11,
    Kind.DHT11_STATUS: Family.DHT11,
    Kind.DHT11_INCIDENTS: Family.DHT11,
    Kind.EVENT: Family.EVENTS,
    Kind.IOT_DATA: Family.IOT,
    Kind.IOT_STATUS: Family.IOT,
    Kind.IOT_ALERT: Family.IOT,
}


@dataclass(frozen=True, slots=True)
class Route:
    """Where a message goes: its kind and the device id the topic names."""

    kind: Kind
    device_id: str | None = None


def valid_base(base: str) -> bool:
    """Whether `base` can prefix topics: non-empty, no wildcards, no empty level."""
    return bool(base) and "+" not in base and "#" not in base and "" not in base.split("/")


# Kinds whose topic names the device (an event's topic level only names its source), and
# the longest device id (common.MAX_DEVICE_ID_LENGTH; longer ones are refused).
_NAMED_BY_TOPIC = frozenset({Kind.IOT_DATA, Kind.IOT_STATUS, Kind.IOT_ALERT})
MAX_DEVICE_ID_LENGTH = 64

# Topics whose route is remembered (well above a home's fleet), and the memory their text
# may take in all: a flood of one-off topics (up to 65 KB each) must not grow memory.
MAX_REMEMBERED_TOPICS = 8192
MAX_REMEMBERED_BYTES = 1024 * 1024
# Longest topic remembered, whatever the bases: with the default ones a topic naming a valid
# device id (at most 64 characters) is under 100. Longer bases raise it (see TopicRouter).
MAX_REMEMBERED_LENGTH = 256


class TopicRouter:
    """Subscriptions for the enabled families and fast topic → route lookups."""

    def __init__(self, bases: dict[Family, str]) -> None:
        self.bases = dict(bases)
        self._exact: dict[str, Route] = {}
        # Devices repeat their topics: remember the answer for the ones seen.
        self._seen: dict[str, Route | None] = {}
        self._seen_bytes = 0
        # Longer topics cannot name a valid device: they are routed (and refused), not kept.
        self._max_remembered_length = MAX_REMEMBERED_LENGTH
        # (prefix levels, suffix levels, kind): one "+" level between them.
        self._patterns: list[tuple[tuple[str, ...], tuple[str, ...], Kind]] = []
        self.subscriptions: list[str] = []
        if (base := bases.get(Family.DHT11)) is not None:
            self._add_exact(f"{base}/sensor/data", Kind.DHT11_DATA)
            self._add_exact(f"{base}/status", Kind.DHT11_STATUS)
            self._add_exact(f"{base}/incidents", Kind.DHT11_INCIDENTS)
        if (base := bases.get(Family.EVENTS)) is not None:
            self._add_pattern(base, "", Kind.EVENT)
        if (base := bases.get(Family.IOT)) is not None:
            self._add_pattern(f"{base}/sensors", "data", Kind.IOT_DATA)
            self._add_pattern(f"{base}/devices", "status", Kind.IOT_STATUS)
            self._add_pattern(f"{base}/alerts", "", Kind.IOT_ALERT)

    def _add_exact(self, topic: str, kind: Kind) -> None:
        self._exact[topic] = Route(kind)
        self.subscriptions.append(topic)
        self._max_remembered_length = max(self._max_remembered_length, len(topic))

    def _add_pattern(self, prefix: str, suffix: str, kind: Kind) -> None:
        before = tuple(prefix.split("/"))
        after = tuple(suffix.split("/")) if suffix else ()
        self._patterns.append((before, after, kind))
        subscription = "/".join((*before, "+", *after))
        self.subscriptions.append(subscription)
        longest = len(subscription) - 1 + MAX_DEVICE_ID_LENGTH
        self._max_remembered_length = max(self._max_remembered_length, longest)

    def route(self, topic: str) -> Route | None:
        """Return the route of `topic`, or None when no enabled family owns it."""
        try:
            return self._seen[topic]
        except KeyError:
            pass
        route = self._route(topic)
        if len(topic) > self._max_remembered_length or (
            route is not None
            and route.kind in _NAMED_BY_TOPIC
            and len(route.device_id or "") > MAX_DEVICE_ID_LENGTH
        ):
            return route  # refused for its device id: remembering it would only cost memory
        size = sys.getsizeof(topic)
        if (
            len(self._seen) >= MAX_REMEMBERED_TOPICS
            or self._seen_bytes + size > MAX_REMEMBERED_BYTES
        ):
            self._seen.clear()  # a flood of one-off topics must not grow memory
            self._seen_bytes = 0
        self._seen[topic] = route
        self._seen_bytes += size
        return route

    def _route(self, topic: str) -> Route | None:
        if (route := self._exact.get(topic)) is not None:
            return route
        levels = topic.split("/")
        for before, after, kind in self._patterns:
            n = len(before)
            if (
                len(levels) == n + 1 + len(after)
                and tuple(levels[:n]) == before
                and tuple(levels[n + 1 :]) == after
            ):
                return Route(kind, levels[n])
        return None

    def incident_topic(self, which: str) -> str | None:
        """Where the DHT11 family's incidents (`incidents`) and alerts (`alerts`) go."""
        base = self.bases.get(Family.DHT11)
        return None if base is None else f"{base}/{which}"

    def command_topic(self, device_id: str) -> str | None:
        """Topic for commands to a device (IoT platform layout), if the iot family is on."""
        base = self.bases.get(Family.IOT)
        return None if base is None else f"{base}/devices/{device_id}/commands"
