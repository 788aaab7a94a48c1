"""The diagnostics download: secrets redacted, rejected samples, alerts, devices, counters."""

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
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
    wait_for_value,
)

REDACTED = "**REDACTED**"


async def _runtime(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> dict[str, Any]:
    return (await get_diagnostics_for_config_entry(hass, hass_client, entry))["runtime"]


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry(
        tls="custom",
        port=mosquitto.port_mtls,
        ca_pem=mosquitto.pki.ca_cert_pem,
        client_cert_pem=mosquitto.pki.client_cert_pem,
        client_key_pem=mosquitto.pki.client_key_pem,
    )
    await setup_entry(hass, entry)
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = str(diag)
    for secret in (mosquitto.password, "PRIVATE KEY", "BEGIN CERTIFICATE"):
        assert secret not in text
    data = diag["entry"]["data"]
    for key in ("password", "username", "ca_pem", "client_cert_pem", "client_key_pem"):
        assert data[key] == REDACTED
    assert data["host"] == "127.0.0.1"
    assert diag["entry"]["version"] == "1.3"
    assert diag["runtime"]["connected"] is True
    assert (
        diag["runtime"]["subscriptions"].items()
        >= {
            "dht11/sensor/data": 1,
            "dht11/status": 1,
            "sensor/+": 1,
            "iot/sensors/+/data": 1,
            "iot/devices/+/status": 1,
            "iot/alerts/+": 1,
        }.items()
    )


async def test_rejected_samples_are_the_latest_ten_capped(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP32_TOPIC, '{"temperature": "hot"}')
    huge = b"{" + b" " * (1024 * 1024) + b"}"
    await mosquitto.publish(ESP32_TOPIC, huge)
    for _ in range(9):
        await mosquitto.publish(DHT11_TOPIC, "not json")
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await wait_for_value(hass, hub_sensor(mosquitto, "rejected_messages"), "11")
    runtime = await _runtime(hass, hass_client, entry)
    assert runtime["rejections"] == {"wrong_type": 1, "too_large": 1, "invalid_json": 9}
    samples = runtime["rejected_samples"]
    # The latest ten are kept (the first one was pushed out).
    assert len(samples) == 10
    assert [sample["reason"] for sample in samples] == ["too_large"] + ["invalid_json"] * 9
    too_large = samples[0]
    assert (too_large["topic"], too_large["size"]) == (ESP32_TOPIC, len(huge))
    assert len(too_large["payload"]) <= 256
    assert samples[-1] | {"time": None} == {
        "time": None,
        "topic": DHT11_TOPIC,
        "reason": "invalid_json",
        "detail": samples[-1]["detail"],
        "size": len("not json"),
        "payload": "not json",
    }


async def test_rejected_sample_redacts_secret_keys(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    bad = '{"device_id": "ESP32_001", "temperature": "hot", "wifi_password": "hunter2"}'
    await mosquitto.publish(ESP32_TOPIC, bad)
    await wait_for_value(hass, hub_sensor(mosquitto, "rejected_messages"), "1")
    runtime = await _runtime(hass, hass_client, entry)
    assert "hunter2" not in str(runtime)
    (sample,) = runtime["rejected_samples"]
    assert sample["payload"].count(REDACTED) == 1
    assert '"temperature":"hot"' in sample["payload"]


async def test_alerts_are_counted_for_now(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(
        "iot/alerts/ESP32_001", '{"level": "critical", "message": "Temperature high"}'
    )
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    runtime = await _runtime(hass, hass_client, entry)
    assert runtime["alerts_received"] == 1
    (alert,) = runtime["alerts"]
    assert (alert["topic"], alert["device_id"]) == ("iot/alerts/ESP32_001", "ESP32_001")
    assert (alert["level"], alert["message"]) == ("critical", "Temperature high")


async def test_devices_keep_the_device_clock(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(
        "iot/devices/ESP32_001/status",
        '{"status": "online", "battery": 80, "timestamp": "2025-01-20T10:30:00Z"}',
    )
    await wait_for_value(hass, "sensor.esp32_001_battery", "80.0")
    device = (await _runtime(hass, hass_client, entry))["devices"]["ESP32_001"]
    assert device["device_time"] == "2025-01-20T10:30:00+00:00"
    assert (device["status"], device["online"], device["values"]) == (
        "online",
        True,
        {"battery": 80.0},
    )
    await mosquitto.publish(
        ESP32_TOPIC, '{"temperature": 24.5, "timestamp": "2025-01-20T10:31:00Z"}'
    )
    await wait_for_value(hass, ESP_TEMP, "24.5")
    device = (await _runtime(hass, hass_client, entry))["devices"]["ESP32_001"]
    assert device["device_time"] == "2025-01-20T10:31:00+00:00"


async def test_messages_of_a_family_turned_off_are_counted_as_unrouted(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # The persistent session still holds the old subscriptions: the broker keeps
    # this for us although the family is turned off before the next start.
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    hass.config_entries.async_update_entry(entry, options={"iot_enabled": False})
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    runtime = await _runtime(hass, hass_client, entry)
    assert runtime["unrouted_messages"] == 1
    assert "iot" not in runtime["families"]
    assert hass.states.get(ESP_TEMP) is None
