"""Topic families and routing a topic to what it carries, with the router's memory."""

import pytest

from custom_components.iot_hub.core.local.topics import (
    DEFAULT_BASES,
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
