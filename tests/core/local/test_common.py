"""What every decoder shares: the size cap, JSON parsing, device ids (and their cache)."""

import unicodedata
import uuid

import pytest

from custom_components.iot_hub.core.local import common
from custom_components.iot_hub.core.local.common import (
    MAX_PAYLOAD_BYTES,
    parse_json_object,
    valid_device_id,
)
from custom_components.iot_hub.core.local.dht11 import decode_dht11, decode_dht11_status
from custom_components.iot_hub.core.local.events import decode_event
from custom_components.iot_hub.core.local.iot import (
    decode_iot_alert,
    decode_iot_data,
    decode_iot_status,
)
from custom_components.iot_hub.core.local.models import Reading, Rejected, Rejection


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
        b"x" * 1000,
    ],
)
def test_invalid_json(payload: bytes) -> None:
    result = parse_json_object(payload)
    assert isinstance(result, Rejected)
    assert result.reason is Rejection.INVALID_JSON
    assert 0 < len(result.detail) <= 120


def test_number_overflow_is_named_in_the_detail() -> None:
    result = parse_json_object(b'{"temperature": 1e999}')
    assert isinstance(result, Rejected)
    assert "infinity" in result.detail


# ---------------------------------------------------------------- device ids


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


class _CountingUnicodedata:
    """Stands in for `unicodedata` in common.py, counting the characters it classifies."""

    def __init__(self) -> None:
        self.calls = 0

    def category(self, char: str) -> str:
        self.calls += 1
        return unicodedata.category(char)


@pytest.fixture
def classified(monkeypatch: pytest.MonkeyPatch) -> _CountingUnicodedata:
    counter = _CountingUnicodedata()
    monkeypatch.setattr(common, "unicodedata", counter)
    return counter


@pytest.mark.parametrize("suffix", ["", "\u200b"], ids=["valid", "format-character"])
def test_device_id_verdict_is_remembered(classified: _CountingUnicodedata, suffix: str) -> None:
    """The same few ids come with every message: each is checked character by character once."""
    device_id = f"dev-{uuid.uuid4().hex[:12]}{suffix}"  # never seen by this process
    expected = None if suffix else device_id
    assert valid_device_id(device_id) == expected
    first = classified.calls
    assert first > 0
    assert valid_device_id(device_id) == expected
    assert valid_device_id(device_id) == expected
    assert classified.calls == first  # answered from memory, no character looked at again
