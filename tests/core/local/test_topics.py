"""Topic families and routing a topic to what it carries, with the router's memory."""

import sys

import pytest

from custom_components.iot_hub.core.local.common import MAX_DEVICE_ID_LENGTH
from custom_components.iot_hub.core.local.topics import (
    DEFAULT_BASES,
    MAX_DEVICE_ID_LENGTH as TOPICS_MAX_ID,
    MAX_REMEMBERED_BYTES,
    MAX_REMEMBERED_LENGTH,
    MAX_REMEMBERED_TOPICS,
    Family,
    Kind,
    Route,
    TopicRouter,
    valid_base,
)

UNOWNED = ("iot/sensors/x/other", "iot/sensors/data", "elsewhere", "sensor/a/b")


class _Counting:
    """Wraps a router's uncached lookup (`_route`), counting the topics it works out."""

    def __init__(self, router: TopicRouter) -> None:
        self.topics: list[str] = []
        self._route = router._route
        router._route = self  # type: ignore[method-assign]

    def __call__(self, topic: str) -> Route | None:
        self.topics.append(topic)
        return self._route(topic)


def test_router_routes_every_family() -> None:
    router = TopicRouter(dict(DEFAULT_BASES))
    assert router.route("dht11/sensor/data") == Route(Kind.DHT11_DATA)
    assert router.route("dht11/status") == Route(Kind.DHT11_STATUS)
    assert router.route("sensor/motion") == Route(Kind.EVENT, "motion")
    assert router.route("iot/sensors/ESP32_001/data") == Route(Kind.IOT_DATA, "ESP32_001")
    assert router.route("iot/devices/RPI_001/status") == Route(Kind.IOT_STATUS, "RPI_001")
    assert router.route("iot/alerts/RPI_001") == Route(Kind.IOT_ALERT, "RPI_001")
    for unowned in UNOWNED:
        assert router.route(unowned) is None


def test_router_follows_its_bases() -> None:
    router = TopicRouter({Family.IOT: "home/iot"})
    assert router.route("home/iot/sensors/ESP32_001/data") == Route(Kind.IOT_DATA, "ESP32_001")
    # Families left out are not routed, whatever their default topics.
    assert router.route("iot/sensors/ESP32_001/data") is None
    assert router.route("dht11/sensor/data") is None
    assert router.route("sensor/motion") is None
    assert router.command_topic("ESP32_001") == "home/iot/devices/ESP32_001/commands"
    assert TopicRouter({Family.DHT11: "dht11"}).command_topic("ESP32_001") is None


def test_router_remembers_answers() -> None:
    """Devices repeat their topics: each one is worked out once, found or not."""
    router = TopicRouter(dict(DEFAULT_BASES))
    counting = _Counting(router)
    topics = ("dht11/sensor/data", "iot/sensors/ESP32_001/data", *UNOWNED)
    for _ in range(3):
        answers = [router.route(topic) for topic in topics]
        assert answers[:2] == [Route(Kind.DHT11_DATA), Route(Kind.IOT_DATA, "ESP32_001")]
        assert answers[2:] == [None] * len(UNOWNED)
    assert counting.topics == list(topics)


def test_router_memory_is_bounded_under_a_flood_of_topics() -> None:
    router = TopicRouter({Family.IOT: "iot"})
    for n in range(MAX_REMEMBERED_TOPICS * 2 + 5):
        assert router.route(f"iot/sensors/d{n}/data") == Route(Kind.IOT_DATA, f"d{n}")
        assert len(router._seen) <= MAX_REMEMBERED_TOPICS
    # Forgotten, so worked out again: still the right answer.
    counting = _Counting(router)
    assert router.route("iot/sensors/d0/data") == Route(Kind.IOT_DATA, "d0")
    assert counting.topics == ["iot/sensors/d0/data"]


def test_router_memory_is_bounded_in_characters() -> None:
    """Long (valid) topics: the remembered text stays under its own cap, not only the count."""
    base = "home/" + "b" * 170
    router = TopicRouter({Family.IOT: base})
    for n in range(MAX_REMEMBERED_TOPICS):
        topic = f"{base}/sensors/{n:_>60}/data"
        assert router.route(topic) == Route(Kind.IOT_DATA, f"{n:_>60}")
        if n % 256 == 0:
            assert sum(map(sys.getsizeof, router._seen)) <= MAX_REMEMBERED_BYTES
    assert sum(map(sys.getsizeof, router._seen)) <= MAX_REMEMBERED_BYTES
    # Remembered all the same: the latest topic is not worked out again.
    counting = _Counting(router)
    assert router.route(topic) == Route(Kind.IOT_DATA, f"{n:_>60}")
    assert counting.topics == []


@pytest.mark.parametrize(
    "topic", ["iot/sensors/{}/data", "iot/devices/{}/status", "iot/alerts/{}", "sensor/{}"]
)
def test_router_does_not_remember_topics_naming_no_valid_device(topic: str) -> None:
    """A flood of 60 KB topics (refused: no device id is that long) leaves no memory behind."""
    router = TopicRouter(dict(DEFAULT_BASES))
    for n in range(100):
        level = f"{n}" + "x" * 60_000
        route = router.route(topic.format(level))
        assert route is not None
        assert route.device_id == level
    assert router._seen == {}
    # A valid id's topic still is remembered.
    assert router.route(topic.format("ESP32_001")) is not None
    assert list(router._seen) == [topic.format("ESP32_001")]


@pytest.mark.parametrize("topic", ["iot/sensors/{}/data", "iot/devices/{}/status", "iot/alerts/{}"])
def test_router_does_not_remember_ids_too_long_to_be_valid(topic: str) -> None:
    """Under the length cap, but the id is refused all the same: not remembered."""
    assert TOPICS_MAX_ID == MAX_DEVICE_ID_LENGTH  # the core's rule, kept standard-library only
    router = TopicRouter(dict(DEFAULT_BASES))
    for device in ("x" * (MAX_DEVICE_ID_LENGTH + 1), "é" * 100):
        route = router.route(topic.format(device))
        assert route is not None
        assert route.device_id == device
    assert router._seen == {}
    assert router.route(topic.format("x" * MAX_DEVICE_ID_LENGTH)) is not None
    assert list(router._seen) == [topic.format("x" * MAX_DEVICE_ID_LENGTH)]


def test_router_remembers_short_event_topics_whatever_their_source() -> None:
    """An event's topic level names its source, not its device: any short one is fine."""
    router = TopicRouter(dict(DEFAULT_BASES))
    topics = ("sensor/front door", "sensor/" + "s" * 65)
    for topic in topics:
        assert router.route(topic) == Route(Kind.EVENT, topic.removeprefix("sensor/"))
    assert list(router._seen) == list(topics)


def test_router_remembers_its_longest_valid_topics() -> None:
    """Whatever the base's length, a topic naming a valid device id is remembered."""
    base = "/".join(["level"] * 60)
    router = TopicRouter({Family.IOT: base, Family.DHT11: base})
    topics = (f"{base}/sensors/{'d' * 64}/data", f"{base}/sensor/data")
    assert len(topics[0]) > MAX_REMEMBERED_LENGTH
    for topic in topics:
        assert router.route(topic) is not None
    assert list(router._seen) == list(topics)


@pytest.mark.parametrize(
    ("base", "valid"),
    [
        ("iot", True),
        ("home/iot", True),
        ("", False),
        ("iot/+", False),
        ("iot/#", False),
        ("/iot", False),
        ("iot/", False),
        ("home//iot", False),
    ],
)
def test_valid_base(base: str, valid: bool) -> None:
    assert valid_base(base) is valid
