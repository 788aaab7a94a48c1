"""The users' own IoT platform payloads (seeds 002, 004) on `iot/sensors/{id}/data`.

Seed payloads are copied verbatim from the documents; where a document builds
the payload in code (Python dict, Arduino string concatenation, JavaScript
object), the test builds it the same way.
"""

from datetime import UTC, datetime
import json
import time

import pytest

from custom_components.iot_hub.core.local.iot import decode_iot_data
from custom_components.iot_hub.core.local.models import DeviceModel, Reading, Rejection

from ...helpers import rejected

# ---------------------------------------------------------------- IoT platform (EMQX iot/...)

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
    rejected(decode_iot_data("ESP32_001", payload), Rejection.INVALID_JSON)


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
    rejected(decode_iot_data("ESP32_001", payload), Rejection.NO_VALUES)


# ---------------------------------------------------------------- ESP32 health

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
