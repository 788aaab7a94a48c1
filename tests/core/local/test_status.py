"""Status messages (`iot/devices/{id}/status`): a word, or `{"status": ...}` with health values."""

from datetime import UTC, datetime
import json

import pytest

from custom_components.iot_hub.core.local.iot import decode_iot_status
from custom_components.iot_hub.core.local.models import DeviceStatus, Rejected, Rejection, Status

from ...helpers import rejected

# Seed 002's status endpoint answer (an HTTP body, not an MQTT message).
SEED_002_DEVICE_STATUS_RESPONSE = b"""{
  "total_mqtt_devices": 10,
  "online": 8,
  "offline": 2,
  "error": 0,
  "percentage_online": 80.0
}"""


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
    result = rejected(decode_iot_status("ESP32_001", payload), reason)
    if detail is not None:
        assert result.detail == detail


def test_iot_status_detail_is_printable_and_short() -> None:
    result = rejected(
        decode_iot_status("ESP32_001", ("\x1b[31m" + "é" * 500).encode()), Rejection.UNKNOWN_STATUS
    )
    assert result.detail.isascii()
    assert result.detail.isprintable()
    assert len(result.detail) <= 100


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


def test_seed_002_device_status_response_is_not_a_status() -> None:
    # "online": 8 is a count, not a status word.
    result = decode_iot_status("ESP32_001", SEED_002_DEVICE_STATUS_RESPONSE)
    assert result == Rejected(Rejection.UNKNOWN_STATUS, "no status")
