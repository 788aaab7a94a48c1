"""Refused messages: what the hub's "Rejected messages" sensor counts and what the log says."""

from collections.abc import Callable
from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .broker import Mosquitto
from .helpers import (
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    ESP32_TOPIC,
    ESP_TEMP,
    SEED_002_ESP32,
    hub_sensor,
    setup_entry,
    wait_for_state,
    wait_for_value,
)

IGNORED = "Ignored a message on"
# Longest topic or detail a log line or a diagnostics sample quotes (then "…").
MAX_QUOTED = 120


async def _rejections(hass: HomeAssistant, mosquitto: Mosquitto, total: int) -> State:
    """The rejected-messages sensor once it counts `total`."""
    return await wait_for_state(
        hass, hub_sensor(mosquitto, "rejected_messages"), lambda s: s.state == str(total)
    )


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if IGNORED in r.getMessage()]


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def _samples(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> list[dict[str, Any]]:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    samples: list[dict[str, Any]] = diagnostics["runtime"]["rejected_samples"]
    return samples


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("not json", "invalid_json"),
        ('{"temperature": NaN, "humidity": 60}', "invalid_json"),
        ('{"temperature": "hot", "humidity": 60}', "wrong_type"),
        ('{"temperature": 900, "humidity": 60}', "out_of_range"),
        ("[25, 60]", "not_an_object"),
        ('{"pressure": 1013}', "no_values"),
        ('{"temperature": true}', "wrong_type"),
    ],
)
async def test_bad_payloads_are_counted_and_logged_once(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    payload: str,
    reason: str,
) -> None:
    await setup_entry(hass, make_entry())
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    for _ in range(3):
        await mosquitto.publish(DHT11_TOPIC, payload)
    # A good message after the bad ones proves they were all processed.
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":26,"humidity":60}')
    await wait_for_value(hass, DHT11_TEMP, "26.0")
    # Three in all, all three for this reason.
    rejected = await _rejections(hass, mosquitto, 3)
    assert rejected.attributes[reason] == 3
    assert rejected.attributes["state_class"] == "total_increasing"
    logged = _logged(caplog)
    assert len(logged) == 1
    assert f"{IGNORED} {DHT11_TOPIC}" in logged[0]
    assert reason in logged[0]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (ESP32_TOPIC, '{"device_id": "ESP32_999", "temperature": 20}', "device_id_mismatch"),
        (ESP32_TOPIC, '{"temperature": 1e999}', "invalid_json"),
        (ESP32_TOPIC, b"{" + b" " * (1024 * 1024) + b"}", "too_large"),
        # The hub device's own id is no device's.
        ("iot/sensors/__hub__/data", '{"temperature": 20}', "invalid_device_id"),
        ("iot/devices/ESP32_001/status", "rebooting", "unknown_status"),
        ("sensor/motion", '{"event_id": "a", "device_id": "x", "type": ["MOTION"]}', "wrong_type"),
        ("dht11/sensor/data", '{"temperature": 70, "humidity": 50}', "out_of_range"),
    ],
    ids=[
        "mismatch",
        "overflow",
        "too-large",
        "hub-id",
        "unknown-status",
        "event-type",
        "dht11-range",
    ],
)
async def test_bad_input_is_quarantined(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    topic: str,
    payload: str | bytes,
    reason: str,
) -> None:
    await setup_entry(hass, make_entry())
    await mosquitto.publish(topic, payload)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    rejected = await _rejections(hass, mosquitto, 1)
    assert rejected.attributes[reason] == 1
    assert [f"{IGNORED} {topic} " in message for message in _logged(caplog)] == [True]
    # Nothing of the refused message became a device.
    assert hass.states.get("sensor.esp32_999_temperature") is None
    assert hass.states.get("sensor.hub_temperature") is None


async def test_rejections_are_logged_again_after_an_hour(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, make_entry())
    bad = '{"device_id": "ESP32_001", "temperature": "hot"}'
    for _ in range(2):
        await mosquitto.publish(ESP32_TOPIC, bad)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    assert len(_logged(caplog)) == 1
    freezer.tick(timedelta(minutes=61))
    await mosquitto.publish(ESP32_TOPIC, bad)
    await mosquitto.publish(ESP32_TOPIC, '{"temperature": 24.5}')
    await wait_for_value(hass, ESP_TEMP, "24.5")
    logged = _logged(caplog)
    assert len(logged) == 2
    assert "1 more since the last report" in logged[1]
    rejected = await _rejections(hass, mosquitto, 3)
    assert rejected.attributes["wrong_type"] == 3


async def test_deeply_nested_payload_is_quarantined(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    hass_client: ClientSessionGenerator,
) -> None:
    """Nesting deeper than orjson re-serialises (255 levels) is rejected like any bad payload."""
    entry = make_entry()
    await setup_entry(hass, entry)
    deep = "[" * 300 + "]" * 300
    for _ in range(3):
        await mosquitto.publish("iot/sensors/dev1/data", deep)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    rejected = await _rejections(hass, mosquitto, 3)
    assert rejected.attributes["not_an_object"] == 3
    assert _errors(caplog) == []
    assert len(_logged(caplog)) == 1
    samples = await _samples(hass, hass_client, entry)
    assert [sample["reason"] for sample in samples] == ["not_an_object"] * 3
    for sample in samples:
        assert sample["size"] == len(deep)
        assert sample["payload"].startswith("[[[")
        assert len(sample["payload"]) <= 256


@pytest.mark.parametrize(
    "device",
    [
        "x" * 10_000,
        # A line separator and a right-to-left override: no forged log lines or text.
        "a\u2028b\u202ec" * 50,
    ],
    ids=["long", "unprintable"],
)
async def test_quoted_topics_are_capped_and_printable(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    hass_client: ClientSessionGenerator,
    device: str,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    topic = f"iot/sensors/{device}/data"
    await mosquitto.publish(topic, '{"temperature": 20}')
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    rejected = await _rejections(hass, mosquitto, 1)
    assert rejected.attributes["invalid_device_id"] == 1
    [message] = _logged(caplog)
    assert message.isprintable()
    # The topic and the detail are cut, the rest of the line is a fixed sentence.
    assert len(message) < 2 * (MAX_QUOTED + 1) + 250
    quoted = message.removeprefix(f"{IGNORED} ").split(" from ")[0]
    assert len(quoted) <= MAX_QUOTED + 1
    assert quoted.startswith("iot/sensors/")
    assert quoted.endswith("…")
    [sample] = await _samples(hass, hass_client, entry)
    assert sample["topic"] == quoted
    assert len(sample["detail"]) <= MAX_QUOTED + 1
    assert sample["detail"].isprintable()
