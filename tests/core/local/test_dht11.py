"""The DHT11 topics: `dht11/sensor/data` readings and `dht11/status`.

Seed payloads are copied verbatim from the document.
"""

from datetime import UTC, datetime

import pytest

from custom_components.iot_hub.core.local.dht11 import (
    DHT11_DEVICE_ID,
    decode_dht11,
    decode_dht11_status,
)
from custom_components.iot_hub.core.local.models import (
    DeviceModel,
    DeviceStatus,
    Reading,
    Rejected,
    Rejection,
    Status,
)

# "Topics de souscription" table: dht11/sensor/data format.
SEED_000_SENSOR_DATA = b'{"temperature": 25.5, "humidity": 60}'
# Dépannage: mosquitto_pub -h localhost -t "dht11/sensor/data" -m '...'
SEED_000_MOSQUITTO_PUB = b'{"temperature":25,"humidity":60}'
# "Topics de publication" table: dht11/status format.
SEED_000_STATUS = b'{"status": "online"}'
# The other table formats are elided ("...") or not sensor data at all.
SEED_000_INCIDENT_ACTION = b'{"action": "create", ...}'
SEED_000_INCIDENT_STATE = b'{"incident_id": 1, "status": "open", ...}'
SEED_000_ALERT = b'{"incident_id": 1, "alert_type": "..."}'


def _values(payload: bytes) -> dict[str, float]:
    """The values of an accepted DHT11 payload (fails the test on a rejection)."""
    result = decode_dht11(payload)
    assert isinstance(result, Reading), result
    assert result.device_id == DHT11_DEVICE_ID
    assert result.model is DeviceModel.DHT11
    for value in result.values.values():
        assert type(value) is float  # 25 in JSON is 25.0, never an int
    return result.values


def test_seed_000_sensor_data() -> None:
    assert decode_dht11(SEED_000_SENSOR_DATA) == Reading(
        device_id="dht11",
        values={"temperature": 25.5, "humidity": 60.0},
        model=DeviceModel.DHT11,
    )


def test_seed_000_mosquitto_pub() -> None:
    reading = decode_dht11(SEED_000_MOSQUITTO_PUB)
    assert isinstance(reading, Reading)
    assert _values(SEED_000_MOSQUITTO_PUB) == {"temperature": 25.0, "humidity": 60.0}
    assert reading.firmware is None
    assert reading.device_time is None


def test_seed_000_status() -> None:
    assert decode_dht11_status(SEED_000_STATUS) == Status(
        device_id="dht11", status=DeviceStatus.ONLINE
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (SEED_000_INCIDENT_ACTION, Rejection.INVALID_JSON),
        (SEED_000_INCIDENT_STATE, Rejection.INVALID_JSON),
        (SEED_000_ALERT, Rejection.NO_VALUES),
    ],
)
def test_seed_000_other_topics_are_not_readings(payload: bytes, reason: Rejection) -> None:
    result = decode_dht11(payload)
    assert isinstance(result, Rejected)
    assert result.reason is reason


@pytest.mark.parametrize(
    ("payload", "values"),
    [
        # Either value alone, null as absent, bounds inclusive, any JSON number form.
        (b'{"temperature": 21.0}', {"temperature": 21.0}),
        (b'{"humidity": 40}', {"humidity": 40.0}),
        (b'{"temperature": null, "humidity": 55}', {"humidity": 55.0}),
        (b'{"temperature": 0, "humidity": 0}', {"temperature": 0.0, "humidity": 0.0}),
        (b'{"temperature": 50, "humidity": 100}', {"temperature": 50.0, "humidity": 100.0}),
        (b' \n{"temperature": 1e1}\n', {"temperature": 10.0}),
    ],
)
def test_dht11_values(payload: bytes, values: dict[str, float]) -> None:
    assert _values(payload) == values


def test_dht11_extra_keys_and_time() -> None:
    reading = decode_dht11(b'{"temperature": 20, "battery": "low", "timestamp": 1734567890}')
    assert isinstance(reading, Reading)
    assert reading.values == {"temperature": 20.0}
    assert reading.device_time == datetime(2024, 12, 19, 0, 24, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        # A DHT11 measures 0..50 °C: the metric's wider range does not apply.
        (b'{"temperature": 50.5}', Rejection.OUT_OF_RANGE, "temperature=50.5"),
        (b'{"temperature": -0.5}', Rejection.OUT_OF_RANGE, "temperature=-0.5"),
        (b'{"temperature": 25, "humidity": 100.01}', Rejection.OUT_OF_RANGE, "humidity=100.01"),
        (b'{"humidity": -1}', Rejection.OUT_OF_RANGE, "humidity=-1.0"),
        (b'{"temperature": true}', Rejection.WRONG_TYPE, "temperature is bool"),
        (b'{"humidity": false}', Rejection.WRONG_TYPE, "humidity is bool"),
        (b'{"temperature": "25.5"}', Rejection.WRONG_TYPE, "temperature is str"),
        # One bad value refuses the message, even beside a good one.
        (b'{"temperature": 25, "humidity": "60"}', Rejection.WRONG_TYPE, "humidity is str"),
        (b'{"temperature": [25]}', Rejection.WRONG_TYPE, "temperature is list"),
        (b'{"temperature": {"value": 25}}', Rejection.WRONG_TYPE, "temperature is dict"),
        (b"{}", Rejection.NO_VALUES, ""),
        (b'{"temp": 25}', Rejection.NO_VALUES, ""),
        (b'{"temperature": null, "humidity": null}', Rejection.NO_VALUES, ""),
        (b"[25.5, 60]", Rejection.NOT_AN_OBJECT, "list"),
        (b"null", Rejection.NOT_AN_OBJECT, "NoneType"),
        (b'"text"', Rejection.NOT_AN_OBJECT, "str"),
        (b"25.5", Rejection.NOT_AN_OBJECT, "float"),
    ],
)
def test_dht11_rejections(payload: bytes, reason: Rejection, detail: str) -> None:
    assert decode_dht11(payload) == Rejected(reason, detail)


# ---------------------------------------------------------------- dht11/status


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"online", DeviceStatus.ONLINE),
        (b"offline", DeviceStatus.OFFLINE),
        (b" Offline\n", DeviceStatus.OFFLINE),
        (b'{"status": "offline"}', DeviceStatus.OFFLINE),
        (b'"online"', DeviceStatus.ONLINE),
    ],
)
def test_dht11_status(payload: bytes, status: DeviceStatus) -> None:
    assert decode_dht11_status(payload) == Status(device_id="dht11", status=status)


def test_dht11_status_ignores_payload_device_id() -> None:
    # The DHT11 family has one device; its status topic names no device.
    result = decode_dht11_status(b'{"device_id": "other", "status": "online"}')
    assert isinstance(result, Status)
    assert result.device_id == "dht11"


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        (b"starting", Rejection.UNKNOWN_STATUS, "starting"),
        (b"", Rejection.UNKNOWN_STATUS, ""),
        (b"\xff\xfeonline", Rejection.UNKNOWN_STATUS, "not UTF-8 text"),
        (b"1", Rejection.UNKNOWN_STATUS, "1"),
        (b'{"status": true}', Rejection.UNKNOWN_STATUS, "bool"),
        (b'{"status": null}', Rejection.UNKNOWN_STATUS, "no status"),
        (b"{}", Rejection.UNKNOWN_STATUS, "no status"),
        (b'{"status": "rebooting"}', Rejection.UNKNOWN_STATUS, "rebooting"),
        (b'"maybe"', Rejection.UNKNOWN_STATUS, "maybe"),
    ],
)
def test_dht11_status_rejections(payload: bytes, reason: Rejection, detail: str) -> None:
    assert decode_dht11_status(payload) == Rejected(reason, detail)


@pytest.mark.parametrize("payload", [b'{"status": ', b'"online'])
def test_status_json_that_is_not_an_object_or_word(payload: bytes) -> None:
    # A leading quote or brace means JSON; only a string or an object can say a status.
    result = decode_dht11_status(payload)
    assert isinstance(result, Rejected)
    assert result.reason is Rejection.INVALID_JSON
