"""Payload decoders, against the users' own examples (seeds 000, 001, 002, 004).

Seed payloads are copied verbatim from the documents; where a document builds
the payload in code (Python dict, Arduino string concatenation, JavaScript
object), the test builds it the same way.
"""

from datetime import UTC, datetime
import json
import time
from typing import Any
import uuid

import pytest

from custom_components.iot_hub.core.local.common import (
    MAX_PAYLOAD_BYTES,
    parse_json_object,
    valid_device_id,
)
from custom_components.iot_hub.core.local.dht11 import (
    DHT11_DEVICE_ID,
    decode_dht11,
    decode_dht11_status,
)
from custom_components.iot_hub.core.local.events import decode_event
from custom_components.iot_hub.core.local.iot import (
    decode_iot_alert,
    decode_iot_data,
    decode_iot_status,
)
from custom_components.iot_hub.core.local.metrics import METRICS, Metric, metric_for
from custom_components.iot_hub.core.local.models import (
    Alert,
    DeviceModel,
    DeviceStatus,
    Event,
    EventType,
    Reading,
    Rejected,
    Rejection,
    Status,
)


def _rejected(result: object, reason: Rejection) -> Rejected:
    assert isinstance(result, Rejected), result
    assert result.reason is reason, result
    return result


# ====================================================================== seed 000 (DHT11)

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


def test_seed_000_sensor_data() -> None:
    reading = decode_dht11(SEED_000_SENSOR_DATA)
    assert reading == Reading(
        device_id="dht11",
        values={"temperature": 25.5, "humidity": 60.0},
        model=DeviceModel.DHT11,
    )


def test_seed_000_mosquitto_pub() -> None:
    reading = decode_dht11(SEED_000_MOSQUITTO_PUB)
    assert isinstance(reading, Reading)
    assert reading.device_id == DHT11_DEVICE_ID
    assert reading.values == {"temperature": 25.0, "humidity": 60.0}
    assert reading.model is DeviceModel.DHT11
    assert reading.firmware is None
    assert reading.device_time is None


def test_seed_000_status() -> None:
    status = decode_dht11_status(SEED_000_STATUS)
    assert status == Status(device_id="dht11", status=DeviceStatus.ONLINE)
    assert isinstance(status, Status)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (SEED_000_INCIDENT_ACTION, Rejection.INVALID_JSON),
        (SEED_000_INCIDENT_STATE, Rejection.INVALID_JSON),
        (SEED_000_ALERT, Rejection.NO_VALUES),
    ],
)
def test_seed_000_other_topics_are_not_readings(payload: bytes, reason: Rejection) -> None:
    _rejected(decode_dht11(payload), reason)


@pytest.mark.parametrize(
    ("payload", "values"),
    [
        (b'{"temperature": 21.0}', {"temperature": 21.0}),
        (b'{"humidity": 40}', {"humidity": 40.0}),
        (b'{"temperature": null, "humidity": 55}', {"humidity": 55.0}),
        (b'{"temperature": 0, "humidity": 0}', {"temperature": 0.0, "humidity": 0.0}),
        (b'{"temperature": 50, "humidity": 100}', {"temperature": 50.0, "humidity": 100.0}),
        (b' \n{"temperature": 1e1}\n', {"temperature": 10.0}),
    ],
)
def test_dht11_values(payload: bytes, values: dict[str, float]) -> None:
    reading = decode_dht11(payload)
    assert isinstance(reading, Reading)
    assert reading.values == values


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


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b'{"temperature": 25',
        b"\xff\xfe",
        b'{"temperature": "\xff"}',
        # orjson refuses what `json` would return as nan/inf.
        b'{"temperature": NaN, "humidity": 60}',
        b'{"temperature": Infinity}',
        b'{"temperature": 1e999}',
        b'{"humidity": -1e999}',
        b"[" * 2000,
    ],
)
def test_invalid_json(payload: bytes) -> None:
    result = _rejected(decode_dht11(payload), Rejection.INVALID_JSON)
    assert 0 < len(result.detail) <= 120


def test_size_cap_before_parsing() -> None:
    at_limit = b'{"temperature": 20}'.ljust(MAX_PAYLOAD_BYTES)
    assert isinstance(decode_dht11(at_limit), Reading)
    too_large = at_limit + b" "
    expected = Rejected(Rejection.TOO_LARGE, f"{MAX_PAYLOAD_BYTES + 1} bytes")
    assert decode_dht11(too_large) == expected
    assert decode_dht11_status(too_large) == expected
    assert decode_event(too_large) == expected
    assert decode_iot_data("ESP32_001", too_large) == expected
    assert decode_iot_status("ESP32_001", b"online".ljust(MAX_PAYLOAD_BYTES + 1)) == expected
    assert decode_iot_alert("ESP32_001", too_large) == expected
    assert parse_json_object(too_large) == expected


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
    result = decode_dht11_status(payload)
    assert result == Status(device_id="dht11", status=status)


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


def test_status_json_that_is_not_an_object_or_word() -> None:
    # A leading quote or brace means JSON; only a string or an object can say a status.
    _rejected(decode_dht11_status(b'{"status": '), Rejection.INVALID_JSON)
    _rejected(decode_dht11_status(b'"online'), Rejection.INVALID_JSON)


# ====================================================================== seed 001 (events)

# "Format de vos événements MQTT" (topic sensor/motion).
SEED_001_FORMAT = b"""{
  "event_id": "uuid",
  "device_id": "raspberry-1",
  "source": "sensor-motion",
  "type": "MOTION_DETECTED",
  "data": {
    "presence": true,
    "gpio_pin": 17
  },
  "timestamp": 1234567890
}"""
# "Format de conversion": "Votre format MQTT".
SEED_001_CONVERSION_INPUT = b"""{
  "event_id": "abc-123",
  "device_id": "raspberry-1",
  "source": "sensor-motion",
  "type": "MOTION_DETECTED",
  "data": {
    "presence": true,
    "gpio_pin": 17
  },
  "timestamp": 1734567890.123
}"""
# "Format envoyé au backend": what the bridge posts over HTTP, not an MQTT envelope.
SEED_001_BACKEND_FORMAT = b"""{
  "type": "motion_detected",
  "device_id": "raspberry-1",
  "details": {
    "event_id": "abc-123",
    "source": "sensor-motion",
    "data": {
      "presence": true,
      "gpio_pin": 17
    },
    "original_timestamp": 1734567890.123,
    "mqtt_topic": "sensor/motion"
  }
}"""
# Test 1: docker-compose exec mqtt-broker mosquitto_pub -t "sensor/motion" -m '{ ... }'
SEED_001_MOSQUITTO_PUB = b"""{
    "event_id": "test-123",
    "device_id": "raspberry-1",
    "source": "sensor-motion",
    "type": "MOTION_DETECTED",
    "data": {"presence": true},
    "timestamp": 1234567890
  }"""
# Test 3: the document elides the rest of the envelope with "...".
SEED_001_MOSQUITTO_PUB_ELIDED = b'{"type": "MOTION_DETECTED", ...}'


def test_seed_001_format() -> None:
    event = decode_event(SEED_001_FORMAT)
    assert event == Event(
        event_id="uuid",
        device_id="raspberry-1",
        type=EventType.MOTION_DETECTED,
        source="sensor-motion",
        presence=True,
        device_time=datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC),
        data={"presence": True, "gpio_pin": 17},
    )


def test_seed_001_conversion_input() -> None:
    event = decode_event(SEED_001_CONVERSION_INPUT)
    assert isinstance(event, Event)
    assert event.event_id == "abc-123"
    assert event.device_id == "raspberry-1"
    assert event.type is EventType.MOTION_DETECTED
    assert event.source == "sensor-motion"
    assert event.presence is True
    assert event.pressure is None
    assert event.duration_ms is None
    assert event.device_time == datetime(2024, 12, 19, 0, 24, 50, 123000, tzinfo=UTC)
    assert event.data == {"presence": True, "gpio_pin": 17}


def test_seed_001_backend_format_is_not_an_envelope() -> None:
    assert decode_event(SEED_001_BACKEND_FORMAT) == Rejected(Rejection.MISSING_FIELD, "event_id")


def test_seed_001_mosquitto_pub() -> None:
    event = decode_event(SEED_001_MOSQUITTO_PUB)
    assert event == Event(
        event_id="test-123",
        device_id="raspberry-1",
        type=EventType.MOTION_DETECTED,
        source="sensor-motion",
        presence=True,
        device_time=datetime(2009, 2, 13, 23, 31, 30, tzinfo=UTC),
        data={"presence": True},
    )


def test_seed_001_mosquitto_pub_elided() -> None:
    _rejected(decode_event(SEED_001_MOSQUITTO_PUB_ELIDED), Rejection.INVALID_JSON)


DEVICE_ID = "raspberry-1"


def test_seed_001_pressure_sensor_code() -> None:
    # "Code Python du capteur": the pressure mat's callback, as the document writes it.
    before = time.time()
    event = {
        "event_id": str(uuid.uuid4()),
        "device_id": DEVICE_ID,
        "source": "sensor-pressure",
        "type": "PRESSURE_DETECTED",  # ← Le bridge le convertira en "button_pressed"
        "data": {"pressure": "high", "duration_ms": 500},
        "timestamp": time.time(),
    }
    result = decode_event(json.dumps(event).encode())
    assert isinstance(result, Event)
    assert result.event_id == event["event_id"]
    assert result.device_id == "raspberry-1"
    assert result.type is EventType.PRESSURE_DETECTED
    assert result.source == "sensor-pressure"
    assert result.presence is None
    assert result.pressure == "high"
    assert result.duration_ms == 500
    assert result.device_time is not None
    assert abs(result.device_time.timestamp() - before) < 60
    assert result.data == {"pressure": "high", "duration_ms": 500}


@pytest.mark.parametrize(
    ("data", "presence"),
    [
        ({"presence": False}, False),
        ({"presence": True}, True),
        ({}, True),
        (None, True),
        ({"presence": "no"}, True),
        ({"presence": 0}, True),
    ],
)
def test_motion_presence(data: dict[str, Any] | None, presence: bool) -> None:
    envelope: dict[str, Any] = {"event_id": "e", "device_id": "pi", "type": "MOTION_DETECTED"}
    if data is not None:
        envelope["data"] = data
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert event.presence is presence
    assert event.data == (data or {})
    assert event.source is None
    assert event.device_time is None


@pytest.mark.parametrize(
    ("data", "pressure", "duration_ms"),
    [
        ({"pressure": "low", "duration_ms": 0}, "low", 0),
        ({"pressure": 512, "duration_ms": 12.9}, "512", 12),
        ({"pressure": 1.5}, "1.5", None),
        ({"duration_ms": -1}, None, None),
        ({"duration_ms": "500"}, None, None),
        ({"duration_ms": True}, None, None),
        ({"pressure": ["high"], "duration_ms": None}, None, None),
        ({"pressure": True}, None, None),
        ({"pressure": "  "}, None, None),
    ],
)
def test_pressure_fields(
    data: dict[str, Any], pressure: str | None, duration_ms: int | None
) -> None:
    envelope = {"event_id": "e", "device_id": "pi", "type": "PRESSURE_DETECTED", "data": data}
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert (event.pressure, event.duration_ms, event.presence) == (pressure, duration_ms, None)


def test_event_type_is_case_insensitive() -> None:
    envelope = {"event_id": "e", "device_id": "pi", "type": " motion_detected "}
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert event.type is EventType.MOTION_DETECTED


def test_event_source_is_capped() -> None:
    envelope = {"event_id": "e", "device_id": "pi", "type": "MOTION_DETECTED", "source": "s" * 500}
    event = decode_event(json.dumps(envelope).encode())
    assert isinstance(event, Event)
    assert event.source == "s" * 128


_ENVELOPE = {"event_id": "e-1", "device_id": "raspberry-1", "type": "MOTION_DETECTED"}


@pytest.mark.parametrize(
    ("changes", "reason", "detail"),
    [
        ({"event_id": None}, Rejection.MISSING_FIELD, "event_id"),
        ({"event_id": "  "}, Rejection.MISSING_FIELD, "event_id"),
        ({"event_id": 123}, Rejection.WRONG_TYPE, "event_id is int"),
        ({"event_id": "x" * 129}, Rejection.OUT_OF_RANGE, "event_id longer than 128"),
        ({"device_id": None}, Rejection.MISSING_FIELD, "device_id"),
        ({"device_id": "home/pi"}, Rejection.INVALID_DEVICE_ID, "home/pi"),
        ({"device_id": 7}, Rejection.INVALID_DEVICE_ID, "int"),
        ({"type": None}, Rejection.MISSING_FIELD, "type"),
        # DECISIONS.md: a list or dict "type" must not reach a dict lookup.
        ({"type": ["MOTION_DETECTED"]}, Rejection.WRONG_TYPE, "type is list"),
        ({"type": {"a": 1}}, Rejection.WRONG_TYPE, "type is dict"),
        ({"type": 3}, Rejection.WRONG_TYPE, "type is int"),
        ({"type": "DOOR_OPENED"}, Rejection.UNKNOWN_EVENT_TYPE, "DOOR_OPENED"),
        ({"type": "bad\nline"}, Rejection.UNKNOWN_EVENT_TYPE, "bad\\nline"),
        ({"data": [1]}, Rejection.WRONG_TYPE, "data is list"),
        ({"data": "presence"}, Rejection.WRONG_TYPE, "data is str"),
    ],
)
def test_event_rejections(changes: dict[str, Any], reason: Rejection, detail: str) -> None:
    envelope = {**_ENVELOPE, **changes}
    envelope = {key: value for key, value in envelope.items() if value is not None}
    assert decode_event(json.dumps(envelope).encode()) == Rejected(reason, detail)


def test_unknown_event_type_detail_is_truncated() -> None:
    envelope = {**_ENVELOPE, "type": "T" * 10_000}
    result = _rejected(decode_event(json.dumps(envelope).encode()), Rejection.UNKNOWN_EVENT_TYPE)
    assert result.detail == "T" * 40 + "\\u2026"
    assert len(result.detail) <= 100


def test_event_not_an_object() -> None:
    assert decode_event(b"[]") == Rejected(Rejection.NOT_AN_OBJECT, "list")


# ====================================================================== seed 002 (EMQX iot/...)

# Payloads of the API calls (HTTP bodies, not MQTT messages): nothing to read.
SEED_002_CURL_BROKER = b"""{
    "nombre": "EMQX Production",
    "host": "emqx",
    "port": 1883,
    "protocol": "mqtt",
    "username": "admin",
    "password": "public",
    "keepalive": 60,
    "is_active": true
  }"""
SEED_002_CURL_TOPIC = b"""{
    "nombre": "Datos de Sensores",
    "topic_pattern": "iot/sensors/{device_id}/data",
    "tipo": "publish",
    "qos": 1,
    "retain": false
  }"""
SEED_002_CURL_CREDENTIALS = b"""{
    "dispositivo": 1,
    "client_id": "ESP32_001",
    "username": "device_001",
    "password": "secure_password",
    "is_active": true
  }"""
SEED_002_CURL_DEVICE_CONFIG = b"""{
    "dispositivo": 1,
    "broker": 1,
    "publish_topic": 1,
    "subscribe_topics": [2],
    "publish_interval": 60,
    "qos": 1,
    "auto_reconnect": true
  }"""
SEED_002_DEVICE_STATUS_RESPONSE = b"""{
  "total_mqtt_devices": 10,
  "online": 8,
  "offline": 2,
  "error": 0,
  "percentage_online": 80.0
}"""
SEED_002_BROKER_CONFIG_TLS = b"""{
    "protocol": "mqtts",
    "port": 8883,
    "use_tls": true,
    "ca_cert": "-----BEGIN CERTIFICATE-----\\n..."
}"""


def _esp32_payload(temperature: str, humidity: str, now: int) -> bytes:
    """Seed 002's ESP32 sketch builds its JSON by concatenating Arduino Strings."""
    payload = "{"
    payload += '"device_id":"ESP32_001",'
    payload += '"temperature":' + temperature + ","
    payload += '"humidity":' + humidity + ","
    payload += '"timestamp":' + str(now)
    payload += "}"
    return payload.encode()


def test_seed_002_esp32_sketch() -> None:
    # String(float) prints two decimals; `now` is millis() since boot, not a time.
    payload = _esp32_payload("23.50", "41.20", 120_000)
    assert payload == (
        b'{"device_id":"ESP32_001","temperature":23.50,"humidity":41.20,"timestamp":120000}'
    )
    reading = decode_iot_data("ESP32_001", payload)
    assert reading == Reading(
        device_id="ESP32_001",
        values={"temperature": 23.5, "humidity": 41.2},
        model=DeviceModel.ESP32,
        firmware=None,
        device_time=None,
    )


def test_seed_002_esp32_sketch_failed_read() -> None:
    # A failed DHT read is NAN, which String() prints as "nan": not JSON.
    payload = _esp32_payload("nan", "nan", 60_001)
    _rejected(decode_iot_data("ESP32_001", payload), Rejection.INVALID_JSON)


def test_seed_002_raspberry_pi_script() -> None:
    # The Raspberry Pi script's payload dict, serialised as it does.
    temperature, humidity = 22.4, 48.0
    payload = {
        "device_id": "RPI_001",
        "sensors": {"temperature": temperature, "humidity": humidity},
        "timestamp": int(time.time()),
    }
    reading = decode_iot_data("RPI_001", json.dumps(payload).encode())
    assert isinstance(reading, Reading)
    assert reading.device_id == "RPI_001"
    assert reading.values == {"temperature": 22.4, "humidity": 48.0}
    assert reading.model is DeviceModel.RASPBERRY_PI
    assert reading.device_time is not None
    assert abs(reading.device_time.timestamp() - payload["timestamp"]) < 1


@pytest.mark.parametrize(
    "payload",
    [
        SEED_002_CURL_BROKER,
        SEED_002_CURL_TOPIC,
        SEED_002_CURL_CREDENTIALS,
        SEED_002_CURL_DEVICE_CONFIG,
        SEED_002_DEVICE_STATUS_RESPONSE,
        SEED_002_BROKER_CONFIG_TLS,
    ],
)
def test_seed_002_api_bodies_are_not_readings(payload: bytes) -> None:
    _rejected(decode_iot_data("ESP32_001", payload), Rejection.NO_VALUES)


def test_seed_002_device_status_response_is_not_a_status() -> None:
    # "online": 8 is a count, not a status word.
    result = decode_iot_status("ESP32_001", SEED_002_DEVICE_STATUS_RESPONSE)
    assert result == Rejected(Rejection.UNKNOWN_STATUS, "no status")


# ====================================================================== seed 004 (ESP32 health)

# IoTConsumer "Messages supportés".
SEED_004_SENSOR_DATA = b"""{
    "type": "sensor_data",
    "device_mac": "AA:BB:CC:DD:EE:FF",
    "data": {
        "temperature": 36.5,
        "heart_rate": 75,
        "timestamp": "2025-01-20T10:30:00Z"
    }
}"""


def test_seed_004_sensor_data() -> None:
    reading = decode_iot_data("ESP32_001", SEED_004_SENSOR_DATA)
    assert reading == Reading(
        device_id="ESP32_001",
        values={"temperature": 36.5, "heart_rate": 75.0},
        model=DeviceModel.ESP32,
        device_time=datetime(2025, 1, 20, 10, 30, tzinfo=UTC),
    )


def test_seed_004_javascript_sensor_data() -> None:
    # "Envoi de Données": JSON.stringify(sensorData).
    sensor_data = {
        "type": "sensor_data",
        "device_mac": "AA:BB:CC:DD:EE:FF",
        "data": {"temperature": 36.5, "heart_rate": 75},
    }
    payload = json.dumps(sensor_data, separators=(",", ":")).encode()
    reading = decode_iot_data("AA:BB:CC:DD:EE:FF", payload)
    assert isinstance(reading, Reading)
    assert reading.device_id == "AA:BB:CC:DD:EE:FF"
    assert reading.values == {"temperature": 36.5, "heart_rate": 75.0}
    assert reading.model is DeviceModel.GENERIC
    assert reading.device_time is None


def test_seed_004_arduino_sketch() -> None:
    # sendSensorData(): doc["data"]["timestamp"] = millis(), uptime, not a time.
    doc = {
        "type": "sensor_data",
        "device_mac": "24:6F:28:AA:BB:CC",
        "data": {"temperature": 36.6, "heart_rate": 72, "timestamp": 5000},
    }
    reading = decode_iot_data("esp32-ward-3", json.dumps(doc).encode())
    assert isinstance(reading, Reading)
    assert reading.values == {"temperature": 36.6, "heart_rate": 72.0}
    assert reading.device_time is None
    assert reading.model is DeviceModel.ESP32


def test_seed_004_device_fields() -> None:
    # DispositivesIoT: version_firmware, niveau_batterie, qualite_signal, type_dispositif.
    payload = {
        "type_dispositif": "capteur_cardiaque",
        "version_firmware": "1.4.2",
        "niveau_batterie": 87,
        "qualite_signal": 64,
        "frequence_cardiaque": 71,
        "oxygene": 97.5,
        "glycemie": "104",
        "nom": "Chambre 12",
    }
    reading = decode_iot_data("ESP32_014", json.dumps(payload).encode())
    assert reading == Reading(
        device_id="ESP32_014",
        values={
            "battery": 87.0,
            "signal_quality": 64.0,
            "heart_rate": 71.0,
            "spo2": 97.5,
            "glucose": 104.0,
        },
        model=DeviceModel.ESP32,
        firmware="1.4.2",
    )


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("actif", DeviceStatus.ONLINE),
        ("inactif", DeviceStatus.OFFLINE),
        ("maintenance", DeviceStatus.MAINTENANCE),
        ("erreur", DeviceStatus.ERROR),
    ],
)
def test_seed_004_status_choices(word: str, status: DeviceStatus) -> None:
    result = decode_iot_status("ESP32_001", json.dumps({"status": word}).encode())
    assert result == Status(device_id="ESP32_001", status=status)
    assert isinstance(result, Status)


# ====================================================================== iot data, in general


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
        _rejected(result, Rejection.INVALID_DEVICE_ID)


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


# ====================================================================== iot status


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"online", DeviceStatus.ONLINE),
        (b"OFFLINE", DeviceStatus.OFFLINE),
        (b"connected", DeviceStatus.ONLINE),
        (b"disconnected", DeviceStatus.OFFLINE),
        (b"Active", DeviceStatus.ONLINE),
        (b"inactive", DeviceStatus.OFFLINE),
        (b"activo", DeviceStatus.ONLINE),
        (b"inactivo", DeviceStatus.OFFLINE),
        (b"error", DeviceStatus.ERROR),
        (b"  Maintenance \r\n", DeviceStatus.MAINTENANCE),
        (b'{"state": "offline"}', DeviceStatus.OFFLINE),
        (b'{"connection_status": "error"}', DeviceStatus.ERROR),
        (b'{"status": null, "state": "online"}', DeviceStatus.ONLINE),
        (b'"disconnected"', DeviceStatus.OFFLINE),
    ],
)
def test_iot_status_words(payload: bytes, status: DeviceStatus) -> None:
    assert decode_iot_status("ESP32_001", payload) == Status("ESP32_001", status)


def test_iot_status_health_values() -> None:
    payload = {
        "device_id": "ESP32_001",
        "status": "actif",
        "niveau_batterie": 76,
        "signal": -71,
        "qualite_signal": "bad",
        "bat": 12,
        "spo2": 30,
        "heart_rate": None,
        "uptime": 86400,
        "version_firmware": "1.0.3",
        "timestamp": "2025-01-20T11:30:00+01:00",
        "note": "hello",
    }
    result = decode_iot_status("ESP32_001", json.dumps(payload).encode())
    assert result == Status(
        device_id="ESP32_001",
        status=DeviceStatus.ONLINE,
        # Invalid health values are dropped, not a reason to lose the status.
        values={"battery": 76.0, "rssi": -71.0, "uptime": 86400.0},
        firmware="1.0.3",
        device_time=datetime(2025, 1, 20, 10, 30, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("payload", "reason", "detail"),
    [
        (b"rebooting", Rejection.UNKNOWN_STATUS, "rebooting"),
        (b"\xc3\x28", Rejection.UNKNOWN_STATUS, "not UTF-8 text"),
        (b"[1]", Rejection.UNKNOWN_STATUS, "[1]"),
        (b"null", Rejection.UNKNOWN_STATUS, "null"),
        (b'{"status": 1}', Rejection.UNKNOWN_STATUS, "int"),
        (b'{"status": ["online"]}', Rejection.UNKNOWN_STATUS, "list"),
        (
            b'{"device_id": "ESP32_002", "status": "online"}',
            Rejection.DEVICE_ID_MISMATCH,
            "payload says ESP32_002",
        ),
        (b'{"status": "online"', Rejection.INVALID_JSON, None),
        (b'"online', Rejection.INVALID_JSON, None),
    ],
)
def test_iot_status_rejections(payload: bytes, reason: Rejection, detail: str | None) -> None:
    result = _rejected(decode_iot_status("ESP32_001", payload), reason)
    if detail is not None:
        assert result.detail == detail


def test_iot_status_detail_is_printable_and_short() -> None:
    result = _rejected(
        decode_iot_status("ESP32_001", ("\x1b[31m" + "é" * 500).encode()), Rejection.UNKNOWN_STATUS
    )
    assert result.detail.isascii()
    assert result.detail.isprintable()
    assert len(result.detail) <= 100


# ====================================================================== iot alerts


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
    _rejected(decode_iot_alert("ESP32_001", payload), reason)


# ====================================================================== device ids, metrics


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ESP32_001", "ESP32_001"),
        ("raspberry-1", "raspberry-1"),
        ("AA:BB:CC:DD:EE:FF", "AA:BB:CC:DD:EE:FF"),
        ("capteur salon", "capteur salon"),
        ("température", "température"),
        ("x" * 64, "x" * 64),
        ("x" * 65, None),
        ("", None),
        (" x", None),
        ("x\n", None),
        ("a/b", None),
        ("a#", None),
        ("a+b", None),
        ("a\tb", None),
        ("a\x7fb", None),
        ("a\u2028b", None),
        ("a\ufeffb", None),
        (None, None),
        (1, None),
        (["a"], None),
    ],
)
def test_valid_device_id(value: object, expected: str | None) -> None:
    assert valid_device_id(value) == expected


def test_metrics_table() -> None:
    assert set(METRICS) == {
        "temperature",
        "humidity",
        "battery",
        "rssi",
        "signal_quality",
        "heart_rate",
        "spo2",
        "pressure",
        "glucose",
        "uptime",
    }
    for key, metric in METRICS.items():
        assert metric.key == key
        assert metric.minimum < metric.maximum
        assert metric_for(key) is metric
        for alias in metric.aliases:
            assert metric_for(alias) is metric
            assert metric_for(alias.upper()) is metric
    assert METRICS["temperature"] == Metric(
        "temperature", ("temp", "temperatura", "temperature_c"), -40.0, 125.0
    )
    assert METRICS["uptime"].maximum == pytest.approx(10 * 365.25 * 86400)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Temp", "temperature"),
        ("HUMIDITE", "humidity"),
        ("Battery_Level", "battery"),
        ("signal_strength", "rssi"),
        ("calidad_senal", "signal_quality"),
        ("HR", "heart_rate"),
        ("Saturation", "spo2"),
        ("barometric_pressure", "pressure"),
        ("glucosa", "glucose"),
        ("uptime_s", "uptime"),
    ],
)
def test_metric_for_aliases(name: str, key: str) -> None:
    metric = metric_for(name)
    assert metric is not None
    assert metric.key == key


@pytest.mark.parametrize("name", ["", "lux", "temperature ", "température", "t" * 100, 3])
def test_metric_for_unknown(name: Any) -> None:
    assert metric_for(name) is None
