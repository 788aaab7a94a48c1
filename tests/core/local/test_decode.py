"""Each route goes to the decoder of what its topic carries (the wrong one would refuse)."""

import pytest

from custom_components.iot_hub.core.local.decode import decode
from custom_components.iot_hub.core.local.models import (
    Alert,
    Event,
    Reading,
    Status,
)
from custom_components.iot_hub.core.local.topics import Kind, Route


@pytest.mark.parametrize(
    ("route", "payload", "expected_type", "device_id"),
    [
        (Route(Kind.DHT11_DATA), b'{"temperature": 21}', Reading, "dht11"),
        (Route(Kind.DHT11_STATUS), b"offline", Status, "dht11"),
        (
            Route(Kind.EVENT, "motion"),
            b'{"event_id": "e", "device_id": "pi", "type": "MOTION_DETECTED"}',
            Event,
            "pi",
        ),
        (Route(Kind.IOT_DATA, "ESP32_001"), b'{"temp": 21}', Reading, "ESP32_001"),
        (Route(Kind.IOT_STATUS, "ESP32_001"), b"online", Status, "ESP32_001"),
        (Route(Kind.IOT_ALERT, "ESP32_001"), b'{"level": "warning"}', Alert, "ESP32_001"),
    ],
    ids=lambda value: value.kind.value if isinstance(value, Route) else None,
)
def test_each_route_reaches_its_decoder(
    route: Route, payload: bytes, expected_type: type, device_id: str
) -> None:
    result = decode(route, payload)
    assert isinstance(result, expected_type), result
    assert result.device_id == device_id
