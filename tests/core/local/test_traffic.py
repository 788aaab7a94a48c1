"""The traffic sample behind the setup's topic-family suggestions."""

from custom_components.iot_hub.core.local import traffic
from custom_components.iot_hub.core.local.topics import Family
from custom_components.iot_hub.core.local.traffic import TrafficSample


def test_counts_messages_and_topics_per_family() -> None:
    sample = TrafficSample()
    for topic in (
        "dht11/sensor/data",
        "dht11/sensor/data",
        "dht11/status",
        "sensor/motion",
        "iot/sensors/a/data",
        "iot/devices/b/status",
        "elsewhere/x",
    ):
        sample.observe(topic)
    dht11, events, iot = (sample.families[f] for f in (Family.DHT11, Family.EVENTS, Family.IOT))
    assert (dht11.messages, dht11.topic_count) == (3, 2)
    assert (events.messages, events.topic_count) == (1, 1)
    assert (iot.messages, iot.topic_count) == (2, 2)
    assert sample.seen == {Family.DHT11, Family.EVENTS, Family.IOT}


def test_listens_where_a_new_entry_would() -> None:
    assert TrafficSample().subscriptions == [
        "dht11/sensor/data",
        "dht11/status",
        "dht11/incidents",
        "sensor/+",
        "iot/sensors/+/data",
        "iot/devices/+/status",
        "iot/alerts/+",
    ]
    assert TrafficSample().seen == set()


def test_distinct_topics_are_bounded() -> None:
    sample = TrafficSample()
    limit = traffic.MAX_TOPICS_PER_FAMILY
    for n in range(limit + 50):
        sample.observe(f"iot/sensors/dev{n}/data")
    assert sample.families[Family.IOT].messages == limit + 50
    assert sample.families[Family.IOT].topic_count == limit
