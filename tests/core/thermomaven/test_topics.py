"""deviceId from the third path segment of a topic as the cloud gives it; no topic building."""

import pytest

from custom_components.iot_hub.core.thermomaven.topics import (
    device_id_from_topic,
    valid_subscription,
)


@pytest.mark.parametrize(
    ("topic", "device_id"),
    [
        ("device/WT11/216510650012434433/pub", "216510650012434433"),
        ("app/WT10/216510650012434433/sub", "216510650012434433"),
        ("device/WT09/216510650099999999/pub", "216510650099999999"),
        ("app/user/291300000000000001/sub", "291300000000000001"),
        ("a/b/c", "c"),
    ],
)
def test_third_segment(topic: str, device_id: str) -> None:
    assert device_id_from_topic(topic) == device_id


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "device",
        "device/WT11",
        "device/WT11/+/pub",
        "device/#",
        "device/WT11//pub",
        "device/WT11/ 1/pub",
        "device/WT11/é/pub",
        "device/WT11/a\x00b/pub",
        "device/WT11/-leading/pub",
        "device/WT11/" + "9" * 65 + "/pub",
        "x" * 300,
    ],
)
def test_no_device_id(topic: str) -> None:
    assert device_id_from_topic(topic) is None


def test_valid_subscription() -> None:
    assert valid_subscription("app/user/1/sub")
    assert valid_subscription("device/WT11/216510650012434433/pub")
    for topic in (None, 5, "", "a/+/b", "a/#", "/a", "a/", "a b", "a\nb", "é", "a" * 257):
        assert not valid_subscription(topic)
