"""The README's scenarios against ejabberd, amqtt and aedes instead of mosquitto.

Every test runs once per broker (the ``interop_broker`` fixture). A test that needs a
broker feature first measures it with mosquitto's CLIs (probes.py) and skips, for that
broker only, with what the broker did instead.
"""

from collections.abc import Callable
import functools
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.core.mqtt.client import MqttClient

from ..helpers import (
    DHT11_HUM,
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    ESP32_TOPIC,
    ESP_CONN,
    ESP_HUM,
    ESP_TEMP,
    MOTION,
    OCCUPANCY,
    SEED_001_MOTION,
    SEED_001_PRESSURE,
    SEED_002_ESP32,
    SEED_002_RPI,
    broker_connection,
    device_of,
    hub_sensor,
    setup_entry,
    wait_for_value,
)
from . import probes
from .brokers import InteropBroker

pytestmark = pytest.mark.interop

DHT11_CONN = "binary_sensor.dht11_connectivity"
ESP_STATUS = "iot/devices/ESP32_001/status"
ESP_BATTERY = "sensor.esp32_001_battery"
ESP_FIRMWARE = "sensor.esp32_001_firmware"
RPI_TEMP = "sensor.rpi_001_temperature"


async def skip_unless(broker: InteropBroker, probe: probes.Probe) -> None:
    """Skip the test for this broker when the probe measured that it cannot."""
    if (why := await probe(broker)) is not None:
        pytest.skip(f"{broker.name}: {why}")


async def test_dht11_readings_and_status(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
) -> None:
    """Seed 000: readings become temperature and humidity; the status topic greys them out."""
    await setup_entry(hass, make_interop_entry())
    assert hass.states.get(broker_connection(interop_broker)).state == "on"
    await interop_broker.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    await wait_for_value(hass, DHT11_HUM, "60.0")
    await wait_for_value(hass, DHT11_CONN, "on")
    await interop_broker.publish("dht11/status", '{"status": "offline"}')
    await wait_for_value(hass, DHT11_CONN, "off")
    await wait_for_value(hass, DHT11_TEMP, STATE_UNAVAILABLE)
    await interop_broker.publish("dht11/status", "online")
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    await interop_broker.publish(DHT11_TOPIC, '{"temperature":21.5,"humidity":40}')
    await wait_for_value(hass, DHT11_TEMP, "21.5")
    await wait_for_value(hass, DHT11_HUM, "40.0")


async def test_motion_and_pressure_events(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    """Seed 001: a motion envelope turns Motion on, then off after the delay; a pressure mat."""
    entry = make_interop_entry(options={"event_off_delay": 1})
    await setup_entry(hass, entry)
    await interop_broker.publish("sensor/motion", SEED_001_MOTION)
    state = await wait_for_value(hass, MOTION, "on")
    assert state.attributes["event_id"] == "test-123"
    assert state.attributes["source"] == "sensor-motion"
    assert device_of(device_registry, entry, "raspberry-1").name == "raspberry-1"
    await wait_for_value(hass, MOTION, "off")
    await interop_broker.publish("sensor/pressure", SEED_001_PRESSURE)
    state = await wait_for_value(hass, OCCUPANCY, "on")
    assert state.attributes["pressure"] == "high"
    assert state.attributes["duration_ms"] == 500
    await wait_for_value(hass, OCCUPANCY, "off")


async def test_iot_platform_fleet_device(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    """Seed 002: an ESP32's data and status, a Raspberry Pi's nested readings."""
    entry = make_interop_entry()
    await setup_entry(hass, entry)
    await interop_broker.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    await wait_for_value(hass, ESP_HUM, "48.2")
    await wait_for_value(hass, ESP_CONN, "on")
    await interop_broker.publish(
        ESP_STATUS, '{"status": "online", "battery": 87, "firmware": "1.4.2"}'
    )
    await wait_for_value(hass, ESP_BATTERY, "87.0")
    await wait_for_value(hass, ESP_FIRMWARE, "1.4.2")
    assert device_of(device_registry, entry, "ESP32_001").sw_version == "1.4.2"
    await interop_broker.publish(ESP_STATUS, "offline")
    await wait_for_value(hass, ESP_CONN, "off")
    await wait_for_value(hass, ESP_TEMP, STATE_UNAVAILABLE)
    await interop_broker.publish("iot/sensors/RPI_001/data", SEED_002_RPI)
    await wait_for_value(hass, RPI_TEMP, "21.0")
    await wait_for_value(hass, hub_sensor(interop_broker, "devices"), "2")
    await wait_for_value(hass, hub_sensor(interop_broker, "devices_offline"), "1")


async def test_burst_of_a_device_that_disconnects_at_once(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
) -> None:
    """A battery ESP32 wakes, sends its readings back to back and sleeps: the last one shows."""
    await skip_unless(interop_broker, probes.burst_then_disconnect)
    await setup_entry(hass, make_interop_entry())
    readings = [
        f'{{"device_id":"ESP32_001","temperature":{20 + i / 10:.1f},"humidity":50}}'
        for i in range(probes.BURST)
    ]
    await interop_broker.publish_burst(ESP32_TOPIC, readings)
    await wait_for_value(hass, ESP_TEMP, f"{20 + (probes.BURST - 1) / 10:.1f}")


async def test_messages_sent_while_unloaded_arrive_after_reload(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
) -> None:
    """Persistent session + QoS 1: the broker keeps what came while the entry was unloaded."""
    await skip_unless(interop_broker, probes.persistent_session)
    entry = make_interop_entry()
    await setup_entry(hass, entry)
    await interop_broker.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await interop_broker.publish(DHT11_TOPIC, '{"temperature":18.5,"humidity":70}')
    await setup_entry(hass, entry)
    await wait_for_value(hass, DHT11_TEMP, "18.5")
    await wait_for_value(hass, DHT11_HUM, "70.0")


async def test_mqtt5_session_keeps_messages_across_reload(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
) -> None:
    """MQTT 5 (session expiry instead of clean session): readings, then the reload case."""
    await skip_unless(interop_broker, probes.mqtt5)
    entry = make_interop_entry(protocol="5")
    await setup_entry(hass, entry)
    await interop_broker.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    assert await hass.config_entries.async_unload(entry.entry_id)
    await interop_broker.publish(DHT11_TOPIC, '{"temperature":18.5,"humidity":70}')
    await setup_entry(hass, entry)
    await wait_for_value(hass, DHT11_TEMP, "18.5")


async def test_mqtt5_entry_on_a_broker_without_mqtt5_retries_setup(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
) -> None:
    """An MQTT 5 entry on a 3.1.1-only broker: "cannot connect" and a retry, no hang, no crash.

    aedes closes the connection at once (reason cannot_connect); amqtt never answers a
    CONNECT with properties, so the client's connect timeout decides (reason timeout; 10 s
    in production, 2 s here).
    """
    if await probes.mqtt5(interop_broker) is None:
        pytest.skip(f"{interop_broker.name}: speaks MQTT 5 (see the MQTT 5 scenario)")
    entry = make_interop_entry(protocol="5")
    client = functools.partial(MqttClient, connect_timeout=2.0)
    with patch("custom_components.iot_hub.broker.runtime.MqttClient", client):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot connect to the MQTT broker" in str(entry.reason)


async def test_retained_status_arrives_at_setup(
    hass: HomeAssistant,
    interop_broker: InteropBroker,
    make_interop_entry: Callable[..., MockConfigEntry],
) -> None:
    """A retained status (a device's last will, say) reaches an entry set up after it."""
    await skip_unless(interop_broker, probes.retained)
    await interop_broker.publish(ESP_STATUS, '{"status": "online", "battery": 55}', retain=True)
    await setup_entry(hass, make_interop_entry())
    await wait_for_value(hass, ESP_BATTERY, "55.0")
    await wait_for_value(hass, ESP_CONN, "on")


async def test_refused_password_starts_reauth(
    hass: HomeAssistant, make_interop_entry: Callable[..., MockConfigEntry]
) -> None:
    """The broker's CONNACK refusal is read as "credentials refused", whatever its code."""
    entry = make_interop_entry(password="wrong")
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler("iot_hub")
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
