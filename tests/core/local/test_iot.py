"""The IoT platform topics' data and alerts: `iot/sensors/{id}/data`, `iot/alerts/{id}`.

The users' own payloads are in test_iot_seeds.py; statuses in test_status.py.
"""

from datetime import UTC, datetime
import json
from typing import Any
import uuid

import pytest

from custom_components.iot_hub.core.local import iot
from custom_components.iot_hub.core.local.iot import (
    decode_iot_alert,
    decode_iot_data,
    decode_iot_status,
)
from custom_components.iot_hub.core.local.models import (
    Alert,
    DeviceModel,
    Reading,
    Rejected,
    Rejection,
)

from ...helpers import rejected

# ---------------------------------------------------------------- iot data, in general


@pytest.mark.parametrize(
    ("payload", "values", "ignored"),
    [
        ({"temp": 21}, {"temperature": 21.0}, ()),
        ({"Temperatura": "21.5", "HUMEDAD": " 40 "}, {"temperature": 21.5, "humidity": 40.0}, ()),
        ({"wifi_rssi": -67, "uptime_s": 3600}, {"rssi": -67.0, "uptime": 3600.0}, ()),
        ({"air_pressure": 1013.2, "bat": 100}, {"pressure": 1013.2, "battery": 100.0}, ()),
        ({"pression": 120, "bat": 100}, {"battery": 100.0}, ("pression",)),
        ({"temperature": 20, "temp": 99}, {"temperature": 20.0}, ("temp",)),
        ({"temperature": 20, "temp": "bogus"}, {"temperature": 20.0}, ("temp",)),
        ({"temperature": None, "hum": 50}, {"humidity": 50.0}, ()),
        ({"temperature": 20, "color": "red", "lux": 300}, {"temperature": 20.0}, ("color", "lux")),
        (
            {"sensors": {"temperature": 19, "co2": 400}, "battery": 90},
            {"temperature": 19.0, "battery": 90.0},
            ("sensors.co2",),
        ),
        (
            {"sensors": {"temperature": 19}, "data": {"humidity": 33, "temperature": 25}},
            {"temperature": 19.0, "humidity": 33.0},
            ("data.temperature",),
        ),
        ({"temperature": 125, "humidity": 0}, {"temperature": 125.0, "humidity": 0.0}, ()),
        ({"temperature": -40, "rssi": -130}, {"temperature": -40.0, "rssi": -130.0}, ()),
        ({"spo2": 50, "heart_rate": 250.0}, {"spo2": 50.0, "heart_rate": 250.0}, ()),
    ],
)
def test_iot_data_values(
    payload: dict[str, Any], values: dict[str, float], ignored: tuple[str, ...]
) -> None:
    reading = decode_iot_data("dev-1", json.dumps(payload).encode())
    assert isinstance(reading, Reading)
    assert reading.values == values
    assert reading.model is DeviceModel.GENERIC


def test_iot_data_skips_unknown_keys_of_any_length() -> None:
    reading = decode_iot_data("dev-1", json.dumps({"temp": 1, "k" * 300: 1}).encode())
    assert isinstance(reading, Reading)
    assert reading.values == {"temperature": 1.0}


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        ({"temperature": 125.5}, Rejection.OUT_OF_RANGE, "temperature=125.5"),
        ({"temperature": 20, "hum": 101}, Rejection.OUT_OF_RANGE, "hum=101.0"),
        ({"rssi": 5}, Rejection.OUT_OF_RANGE, "rssi=5.0"),
        ({"uptime": -1}, Rejection.OUT_OF_RANGE, "uptime=-1.0"),
        ({"uptime": 4e8}, Rejection.OUT_OF_RANGE, "uptime=400000000.0"),
        (
            {"glucose": 18446744073709551615},
            Rejection.OUT_OF_RANGE,
            "glucose=1.8446744073709552e+19",
        ),
        ({"bpm": True}, Rejection.WRONG_TYPE, "bpm is bool"),
        ({"bpm": "fast"}, Rejection.WRONG_TYPE, "bpm is str"),
        ({"bpm": "nan"}, Rejection.WRONG_TYPE, "bpm is str"),
        ({"bpm": "1_0"}, Rejection.WRONG_TYPE, "bpm is str"),
        ({"bpm": "7" * 40}, Rejection.WRONG_TYPE, "bpm is str"),
        ({"bpm": [70]}, Rejection.WRONG_TYPE, "bpm is list"),
        ({"sensors": {"temperature": {"value": 20}}}, Rejection.WRONG_TYPE, "temperature is dict"),
        # A number written as a string may overflow where JSON numbers cannot.
        ({"temperature": "1e999"}, Rejection.NOT_FINITE, "temperature"),
        ({"sensors": [1, 2]}, Rejection.WRONG_TYPE, "sensors is list"),
        ({"data": "x", "temperature": 20}, Rejection.WRONG_TYPE, "data is str"),
        ({}, Rejection.NO_VALUES, ""),
        ({"sensors": {}}, Rejection.NO_VALUES, ""),
        ({"temperature": None}, Rejection.NO_VALUES, ""),
        ({"device_id": "dev-1", "timestamp": 1734567890}, Rejection.NO_VALUES, ""),
        (
            {"device_id": "dev-2", "temperature": 20},
            Rejection.DEVICE_ID_MISMATCH,
            "payload says dev-2",
        ),
        ({"device_id": 1, "temperature": 20}, Rejection.DEVICE_ID_MISMATCH, "payload says int"),
    ],
)
def test_iot_data_rejections(payload: dict[str, Any], reason: Rejection, detail: str) -> None:
    assert decode_iot_data("dev-1", json.dumps(payload).encode()) == Rejected(reason, detail)


def test_iot_data_payload_device_id_may_repeat_the_topic() -> None:
    reading = decode_iot_data("dev-1", b'{"device_id": "dev-1", "temp": 20}')
    assert isinstance(reading, Reading)
    assert reading.device_id == "dev-1"


@pytest.mark.parametrize(
    "topic_device_id", ["", " dev", "dev ", "a/b", "a#", "a+", "x" * 65, "dev\x00", "dev\u200b"]
)
def test_iot_topic_device_id_is_validated(topic_device_id: str) -> None:
    good = b'{"temperature": 20, "status": "online"}'
    for result in (
        decode_iot_data(topic_device_id, good),
        decode_iot_status(topic_device_id, good),
        decode_iot_alert(topic_device_id, good),
    ):
        rejected(result, Rejection.INVALID_DEVICE_ID)


@pytest.mark.parametrize(
    ("device_id", "extra", "model"),
    [
        ("ESP32_001", {}, DeviceModel.ESP32),
        ("esp32-kitchen", {}, DeviceModel.ESP32),
        ("RPI_001", {}, DeviceModel.RASPBERRY_PI),
        ("rpi-garage", {}, DeviceModel.RASPBERRY_PI),
        ("raspberry-1", {}, DeviceModel.RASPBERRY_PI),
        ("rpiano", {}, DeviceModel.GENERIC),
        ("node-7", {}, DeviceModel.GENERIC),
        ("node-7", {"model": "ESP32-S3 DevKit"}, DeviceModel.ESP32),
        ("node-7", {"device_type": "Raspberry Pi 4"}, DeviceModel.RASPBERRY_PI),
        ("node-7", {"type_dispositif": "RPi Zero"}, DeviceModel.RASPBERRY_PI),
        ("node-7", {"model": "Arduino"}, DeviceModel.GENERIC),
        ("node-7", {"model": 32}, DeviceModel.GENERIC),
        ("RPI_001", {"model": "ESP32"}, DeviceModel.ESP32),
        ("node-7", {"data": {"model": "esp32"}}, DeviceModel.ESP32),
    ],
)
def test_iot_data_model(device_id: str, extra: dict[str, Any], model: DeviceModel) -> None:
    payload: dict[str, Any] = {"temperature": 20, **extra}
    if "data" in extra:
        payload["data"] = {**extra["data"], "humidity": 10}
    reading = decode_iot_data(device_id, json.dumps(payload).encode())
    assert isinstance(reading, Reading)
    assert reading.model is model


@pytest.mark.parametrize(
    ("extra", "firmware"),
    [
        ({"firmware": "2.1.0"}, "2.1.0"),
        ({"firmware_version": "v3"}, "v3"),
        ({"version_firmware": 1.2}, "1.2"),
        ({"fw": 7}, "7"),
        ({"fw": True}, None),
        ({"fw": ["1"]}, None),
        ({"firmware": "  "}, None),
        ({"firmware": None, "fw": "9"}, "9"),
        ({"firmware": "f" * 300}, "f" * 128),
        ({"sensors": {"fw": "nested"}}, "nested"),
    ],
)
def test_iot_data_firmware(extra: dict[str, Any], firmware: str | None) -> None:
    payload: dict[str, Any] = {"temperature": 20, **extra}
    reading = decode_iot_data("dev-1", json.dumps(payload).encode())
    assert isinstance(reading, Reading)
    assert reading.firmware == firmware


class _ModelHints:
    """Wraps iot._model_from_text, counting the device ids it reads a model from."""

    def __init__(self) -> None:
        self.from_ids: list[object] = []
        self._real = iot._model_from_text

    def __call__(self, value: object, *, prefix: bool = False) -> DeviceModel | None:
        if prefix:
            self.from_ids.append(value)
        return self._real(value, prefix=prefix)


@pytest.fixture
def model_hints(monkeypatch: pytest.MonkeyPatch) -> _ModelHints:
    hints = _ModelHints()
    monkeypatch.setattr(iot, "_model_from_text", hints)
    return hints


@pytest.mark.parametrize(
    ("prefix", "model"), [("esp32-", DeviceModel.ESP32), ("node-", DeviceModel.GENERIC)]
)
def test_model_from_the_device_id_is_remembered(
    model_hints: _ModelHints, prefix: str, model: DeviceModel
) -> None:
    """The same few ids come with every message: the id is read for a model once."""
    device_id = f"{prefix}{uuid.uuid4().hex[:12]}"  # never seen by this process
    for temperature in (20, 21, 22):
        reading = decode_iot_data(device_id, json.dumps({"temperature": temperature}).encode())
        assert isinstance(reading, Reading)
        assert reading.model is model
    assert model_hints.from_ids == [device_id]


# ---------------------------------------------------------------- iot alerts


def test_iot_alert() -> None:
    payload = {
        "level": "critical",
        "message": "  Fréquence cardiaque élevée  ",
        "timestamp": 1734567890123,
        "heart_rate": 182,
    }
    result = decode_iot_alert("ESP32_001", json.dumps(payload).encode())
    assert result == Alert(
        device_id="ESP32_001",
        level="critical",
        message="Fréquence cardiaque élevée",
        device_time=datetime(2024, 12, 19, 0, 24, 50, 123000, tzinfo=UTC),
        data=payload,
    )


@pytest.mark.parametrize(
    ("payload", "level", "message"),
    [
        ({}, None, None),
        ({"severity": "warning", "msg": "battery low"}, "warning", "battery low"),
        ({"level": None, "severity": "info"}, "info", None),
        ({"level": 3, "message": 42}, "3", "42"),
        ({"level": True, "message": {"text": "x"}}, None, None),
        ({"level": "L" * 300, "message": "M" * 300}, "L" * 128, "M" * 300),
        ({"device_id": "ESP32_001", "message": ""}, None, None),
    ],
)
def test_iot_alert_fields(payload: dict[str, Any], level: str | None, message: str | None) -> None:
    result = decode_iot_alert("ESP32_001", json.dumps(payload).encode())
    assert isinstance(result, Alert)
    assert (result.level, result.message) == (level, message)
    assert result.data == payload
    assert result.device_time is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"battery low", Rejection.INVALID_JSON),
        (b'["battery low"]', Rejection.NOT_AN_OBJECT),
        (b'{"device_id": "other", "level": "critical"}', Rejection.DEVICE_ID_MISMATCH),
    ],
)
def test_iot_alert_rejections(payload: bytes, reason: Rejection) -> None:
    rejected(decode_iot_alert("ESP32_001", payload), reason)
