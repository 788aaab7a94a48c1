"""Every decoder, on arbitrary bytes and arbitrary JSON: a result or a Rejected, never a raise."""

from collections.abc import Callable
import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.iot_hub.core.local.common import MAX_PAYLOAD_BYTES, valid_device_id
from custom_components.iot_hub.core.local.dht11 import (
    DHT11_RANGES,
    decode_dht11,
    decode_dht11_status,
)
from custom_components.iot_hub.core.local.events import decode_event
from custom_components.iot_hub.core.local.iot import (
    decode_iot_alert,
    decode_iot_data,
    decode_iot_status,
)
from custom_components.iot_hub.core.local.metrics import METRICS
from custom_components.iot_hub.core.local.models import (
    Alert,
    Event,
    EventType,
    Reading,
    Rejected,
    Rejection,
    Status,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

type Decoder = Callable[[str, bytes], object]

# Every decoder under a common (topic device id, payload) signature, with its result
# type and whether the result's device id is the topic's.
DECODERS: list[tuple[Decoder, type, bool]] = [
    (lambda _topic, payload: decode_dht11(payload), Reading, False),
    (lambda _topic, payload: decode_dht11_status(payload), Status, False),
    (lambda _topic, payload: decode_event(payload), Event, False),
    (decode_iot_data, Reading, True),
    (decode_iot_status, Status, True),
    (decode_iot_alert, Alert, True),
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e308, -1e308, 5e-324, 1e11, 1e12, 1e15, 1e20])
    | st.text(max_size=20)
    | st.sampled_from(["online", "OFFLINE", "actif", "21.5", "1e999", "nan", "MOTION_DETECTED"])
)
# Keys the decoders look at, so that arbitrary values land where they matter.
interesting_keys = st.sampled_from(
    [
        "device_id",
        "event_id",
        "type",
        "data",
        "sensors",
        "timestamp",
        "status",
        "state",
        "level",
        "message",
        "firmware",
        "fw",
        "model",
        "presence",
        "pressure",
        "duration_ms",
        "source",
        *METRICS,
        *(alias for metric in METRICS.values() for alias in metric.aliases),
    ]
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=10) | interesting_keys, children, max_size=6)
    ),
    max_leaves=25,
)
topic_ids = st.text(max_size=70) | st.sampled_from(["ESP32_001", "RPI_001", "raspberry-1"])


def _check(result: object, result_type: type, topic: str | None) -> None:
    """Assert `result` is well formed; `topic` is the device id it must carry, if any."""
    assert isinstance(result, result_type | Rejected), result
    if isinstance(result, Rejected):
        assert isinstance(result.reason, Rejection)
        assert isinstance(result.detail, str)
        assert len(result.detail) <= 200
        return
    assert isinstance(result, Reading | Status | Event | Alert)
    assert valid_device_id(result.device_id) == result.device_id
    if topic is not None:
        assert result.device_id == topic
    elif not isinstance(result, Event):
        assert result.device_id == "dht11"
    if result.device_time is not None:
        assert result.device_time.tzinfo is not None
        assert result.device_time.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    if isinstance(result, Reading):
        assert result.values
        for key, value in result.values.items():
            metric = METRICS[key]
            assert isinstance(value, float)
            assert math.isfinite(value)
            assert metric.minimum <= value <= metric.maximum
            if result.device_id == "dht11":
                low, high = DHT11_RANGES[key]
                assert low <= value <= high
    if isinstance(result, Status):
        for key, value in result.values.items():
            assert METRICS[key].minimum <= value <= METRICS[key].maximum
    if isinstance(result, Event):
        assert isinstance(result.type, EventType)
        assert (result.presence is None) is (result.type is not EventType.MOTION_DETECTED)
        assert result.duration_ms is None or result.duration_ms >= 0


@FUZZ
@given(topic=topic_ids, payload=st.binary(max_size=512))
def test_every_decoder_on_arbitrary_bytes(topic: str, payload: bytes) -> None:
    for decode, result_type, from_topic in DECODERS:
        _check(decode(topic, payload), result_type, topic if from_topic else None)


@FUZZ
@given(topic=topic_ids, value=json_values)
def test_every_decoder_on_arbitrary_json(topic: str, value: Any) -> None:
    # json.dumps writes NaN/Infinity literals for non-finite floats: invalid JSON to orjson.
    payload = json.dumps(value, allow_nan=True).encode()
    for decode, result_type, from_topic in DECODERS:
        _check(decode(topic, payload), result_type, topic if from_topic else None)


sensor_values = st.none() | st.integers(-300, 2000) | st.floats() | json_values
shaped_reading = st.fixed_dictionaries(
    {},
    optional={
        "device_id": st.sampled_from(["ESP32_001", "other"]) | json_values,
        "temperature": sensor_values,
        "humidity": sensor_values,
        "battery": sensor_values,
        "timestamp": json_values | st.floats(0, 2e12) | st.integers(0, 2**53),
        "sensors": st.dictionaries(interesting_keys, sensor_values, max_size=4) | json_values,
        "firmware": json_values,
    },
)


@FUZZ
@given(data=shaped_reading)
def test_sensor_shaped_payloads(data: dict[str, Any]) -> None:
    payload = json.dumps(data, allow_nan=True).encode()
    for decode, result_type, from_topic in DECODERS:
        _check(decode("ESP32_001", payload), result_type, "ESP32_001" if from_topic else None)
    reading = decode_iot_data("ESP32_001", payload)
    if isinstance(reading, Reading) and isinstance(data.get("temperature"), int | float):
        assert reading.values["temperature"] == data["temperature"]


dht11_numbers = st.none() | st.integers(-200, 200) | st.floats(-200, 200) | json_values


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "temperature": dht11_numbers,
            "humidity": dht11_numbers,
            "timestamp": json_values,
        },
    )
)
def test_dht11_shaped_payloads(data: dict[str, Any]) -> None:
    # A DHT11 reading is the payload's numbers, exactly, or a refusal: never a guess.
    result = decode_dht11(json.dumps(data, allow_nan=True).encode())
    _check(result, Reading, None)
    if isinstance(result, Reading):
        assert result.values == {
            key: data[key] for key in DHT11_RANGES if data.get(key) is not None
        }


shaped_event = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.text(max_size=10) | json_values,
        "device_id": st.sampled_from(["raspberry-1"]) | json_values,
        "type": st.sampled_from(["MOTION_DETECTED", "PRESSURE_DETECTED"]) | json_values,
        "data": st.fixed_dictionaries(
            {},
            optional={"presence": json_values, "pressure": json_values, "duration_ms": json_values},
        )
        | json_values,
        "timestamp": json_values,
        "source": json_values,
    },
)


@FUZZ
@given(data=shaped_event)
def test_event_shaped_payloads(data: dict[str, Any]) -> None:
    payload = json.dumps(data, allow_nan=True).encode()
    _check(decode_event(payload), Event, None)


@FUZZ
@given(topic=topic_ids, padding=st.integers(1, 64))
def test_oversized_payloads(topic: str, padding: int) -> None:
    payload = b" " * (MAX_PAYLOAD_BYTES + padding)
    for decode, result_type, from_topic in DECODERS:
        result = decode(topic, payload)
        _check(result, result_type, topic if from_topic else None)
        assert isinstance(result, Rejected)
        assert result.reason in {Rejection.TOO_LARGE, Rejection.INVALID_DEVICE_ID}
