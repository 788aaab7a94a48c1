"""End to end: IoT Hub in a real Home Assistant, fed by mosquitto_pub, restarted in the middle.

Everything goes through the outside: the config flow over REST, the users' messages with
``mosquitto_pub`` (the README's "Try it"), states, logbook and history over REST, a restart
with the ``homeassistant.stop`` action, and home-assistant.log at the end.
"""

import json

import pytest

from .conftest import Stack
from .harness import DOMAIN, Broker, Client, now

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

DHT11 = {"temperature": 25, "humidity": 60}
MOTION = {
    "event_id": "test-123",
    "device_id": "raspberry-1",
    "source": "sensor-motion",
    "type": "MOTION_DETECTED",
    "data": {"presence": True},
    "timestamp": 1234567890,
}
ESP32_READING = {
    "device_id": "ESP32_001",
    "temperature": 23.5,
    "humidity": 48.2,
    "timestamp": 61234,
}
ESP32_STATUS = {"status": "online", "battery": 87, "firmware": "1.4.2"}
ESP32_ALERT = {"level": "critical", "message": "Temperature high"}


def numeric(value: float):
    def check(state: dict) -> bool:
        try:
            return float(state["state"]) == value
        except ValueError:
            return False

    return check


def create_entry_through_flow(client: Client, broker: Broker) -> dict:
    """Menu -> MQTT broker -> the form, as a person fills it in."""
    result = client.start_flow()
    assert result["type"] == "menu", result
    assert result["step_id"] == "user"
    assert set(result["menu_options"]) == {"broker", "thermomaven"}
    result = client.flow_step(result["flow_id"], {"next_step_id": "broker"})
    assert result["type"] == "form", result
    assert result["step_id"] == "broker"
    fields = {field["name"] for field in result["data_schema"]}
    assert {"host", "port", "username", "password", "transport", "tls"} <= fields
    result = client.flow_step(
        result["flow_id"],
        {
            "host": broker.host,
            "port": broker.port,
            "username": broker.username,
            "password": broker.password,
        },
    )
    # After the connection test (a progress screen), the families seen in 3 s: none yet,
    # so all of them are suggested.
    assert result["type"] == "form", result
    assert result["step_id"] == "families"
    assert result["description_placeholders"]["dht11_messages"] == "0"
    result = client.flow_step(result["flow_id"], {})
    assert result["type"] == "create_entry", result
    assert result["title"] == f"{broker.host}:{broker.port}"
    return result["result"]


def test_real_home_assistant(e2e_stack: Stack) -> None:
    broker, hass, client, phase = (
        e2e_stack.broker,
        e2e_stack.hass,
        e2e_stack.client,
        e2e_stack.phases,
    )
    started = now()
    hub = f"iot_hub_{broker.host.replace('.', '_')}_{broker.port}"
    # What IoT Hub tells "your existing system" about incidents, all along.
    published = hass.config_dir.parent / "dht11_incidents.txt"
    broker.record(published, "dht11/incidents", "dht11/alerts")

    with phase("config flow (REST: menu, broker form)"):
        entry = create_entry_through_flow(client, broker)
        client.wait_entries_loaded()
        client.wait_state(
            f"binary_sensor.{hub}_broker_connection", lambda s: s["state"] == "on", "on"
        )

    with phase("messages (mosquitto_pub) -> states"):
        broker.publish("dht11/sensor/data", DHT11)
        broker.publish("sensor/motion", MOTION)
        broker.publish("iot/sensors/ESP32_001/data", ESP32_READING)
        broker.publish("iot/devices/ESP32_001/status", ESP32_STATUS)
        broker.publish("iot/alerts/ESP32_001", ESP32_ALERT)
        temperature = client.wait_state("sensor.dht11_temperature", numeric(25), "= 25")
        assert temperature["attributes"]["unit_of_measurement"] == "°C"
        client.wait_state("sensor.dht11_humidity", numeric(60), "= 60")
        client.wait_state("binary_sensor.raspberry_1_motion", lambda s: s["state"] == "on", "on")
        client.wait_state("sensor.esp32_001_temperature", numeric(23.5), "= 23.5")
        client.wait_state("sensor.esp32_001_battery", numeric(87), "= 87")
        client.wait_state("sensor.esp32_001_firmware", lambda s: s["state"] == "1.4.2", "1.4.2")
        incident = client.wait_state(
            "binary_sensor.esp32_001_incident",
            lambda s: s["state"] == "on" and s["attributes"].get("severity") == "critical",
            "on (critical)",
        )
        incident_id = incident["attributes"]["incident_id"]
        client.wait_state(
            "event.esp32_001_incident",
            lambda s: s["attributes"].get("event_type") == "opened",
            "opened",
        )
        client.wait_state(f"sensor.{hub}_devices", numeric(3), "= 3 devices")

    with phase("announced once (logbook, history, MQTT)"):
        client.logbook_barrier(started, "before the restart")
        announced = incident_announcements(client, started, published, incident_id)
        assert announced == {"logbook": 1, "opened events": 1, "mqtt": announced["mqtt"]}
        assert announced["mqtt"] >= 1, published.read_text()
        logbook = client.logbook(started, "binary_sensor.esp32_001_incident")
        assert any("Temperature high" in e.get("message", "") for e in logbook), logbook

    with phase("restart: stop (homeassistant.stop)"):
        assert hass.stop() == 0
    # Published while Home Assistant is down: the broker keeps it in IoT Hub's session.
    broker.publish("iot/sensors/ESP32_001/data", {**ESP32_READING, "temperature": 24.5})
    with phase("restart: start until the entry is loaded"):
        hass.start()
        client.refresh()
        client.wait_entries_loaded()
    phase.say(f"entry {entry['entry_id']} loaded again")

    with phase("after the restart: restored, queued, nothing re-announced"):
        # Restored: the DHT11 published nothing since.
        assert numeric(25)(client.state("sensor.dht11_temperature"))
        assert numeric(60)(client.state("sensor.dht11_humidity"))
        assert numeric(87)(client.state("sensor.esp32_001_battery"))
        restored = client.state("binary_sensor.esp32_001_incident")
        assert restored["state"] == "on"
        assert restored["attributes"]["incident_id"] == incident_id
        assert restored["attributes"]["severity"] == "critical"
        # Delivered after the restart: what was published while hass was down.
        client.wait_state("sensor.esp32_001_temperature", numeric(24.5), "= 24.5 (queued)")
        client.logbook_barrier(started, "after the restart")
        again = incident_announcements(client, started, published, incident_id)
        assert again == announced, f"announced again after the restart: {announced} -> {again}"

    with phase("stop, scan home-assistant.log"):
        assert hass.stop() == 0
        offending = hass.offending_log_records()
        assert offending == 0, f"{offending} ERROR / blocking-call record(s) of {DOMAIN}"
        log = hass.log_path.read_text(errors="replace")
        assert "custom_components.iot_hub" in log  # debug logging was on: the log is ours


def incident_announcements(
    client: Client, since, published_file, incident_id: str
) -> dict[str, int]:
    """How often the ESP32's incident was announced: logbook, opened events, MQTT."""
    logbook = [
        entry
        for entry in client.logbook(since, "binary_sensor.esp32_001_incident")
        if entry.get("domain") == DOMAIN
    ]
    opened = {
        state["state"]
        for state in client.history(since, "event.esp32_001_incident")
        if state["attributes"].get("event_type") == "opened"
    }
    mqtt = 0
    for line in published_file.read_text().splitlines():
        _, _, payload = line.partition(" ")
        try:
            message = json.loads(payload)
        except ValueError:
            continue
        if isinstance(message, dict) and incident_id in json.dumps(message):
            mqtt += 1
    return {"logbook": len(logbook), "opened events": len(opened), "mqtt": mqtt}
