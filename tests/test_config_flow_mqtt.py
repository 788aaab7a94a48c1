"""Home Assistant's MQTT integration: its broker reused in one click, and its discovery."""

import asyncio
import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.core.local.topics import DEFAULT_BASES, TopicRouter

from .broker import Mosquitto
from .config_flow_helpers import DOMAIN, assert_no_secret, configure, submit, suggested_values
from .helpers import TIMEOUT


def mqtt_entry(hass: HomeAssistant, broker: Mosquitto, **overrides: Any) -> MockConfigEntry:
    """An entry of Home Assistant's MQTT integration for `broker` (as its own flow stores it)."""
    data = {
        "broker": broker.host,
        "port": broker.port_password,
        "username": broker.username,
        "password": broker.password,
        "discovery": True,
    } | overrides
    entry = MockConfigEntry(domain="mqtt", data=data, version=1, minor_version=2)
    entry.add_to_hass(hass)
    return entry


async def test_menu_offers_the_mqtt_integrations_broker(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    source = mqtt_entry(hass, mosquitto)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["menu_options"] == ["mqtt_integration", "broker", "thermomaven"]
    assert result["description_placeholders"] == {
        "mqtt_broker": f"{mosquitto.host}:{mosquitto.port_password}"
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_integration"}
    )
    assert result["step_id"] == "mqtt_integration"
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["username"] == mosquitto.username
    assert mosquitto.password not in json.dumps(result["description_placeholders"])
    result = await submit(hass, result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == f"mqtt_integration:{source.entry_id}"
    assert entry.title == f"{mosquitto.host}:{mosquitto.port_password}"
    assert {key: entry.data[key] for key in ("host", "port", "username", "password", "tls")} == {
        "host": mosquitto.host,
        "port": mosquitto.port_password,
        "username": mosquitto.username,
        "password": mosquitto.password,
        "tls": "off",
    }
    # Its own client id: never the MQTT integration's session.
    assert entry.data["client_id"].startswith("iot_hub-")
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_copied_tls_settings(hass: HomeAssistant, mosquitto: Mosquitto) -> None:
    pki = mosquitto.pki
    mqtt_entry(
        hass,
        mosquitto,
        port=mosquitto.port_mtls,
        username=None,
        password=None,
        certificate=pki.ca_cert_pem,
        client_cert=pki.client_cert_pem,
        client_key=pki.client_key_pem,
        protocol="5",
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_integration"}
    )
    result = await submit(hass, result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert (data["tls"], data["protocol"], data["verify_ssl"]) == ("custom", "5", True)
    assert data["ca_pem"] == pki.ca_cert_pem
    assert data["client_key_pem"] == pki.client_key_pem


async def test_refused_copy_opens_the_broker_form_without_its_secrets(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    mqtt_entry(hass, mosquitto, password="stale-Secret-123")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mqtt_integration"}
    )
    result = await configure(hass, result["flow_id"], {})
    assert result["step_id"] == "broker"
    assert result["errors"] == {"base": "invalid_auth"}
    assert_no_secret(result, "stale-Secret-123")
    assert suggested_values(result)["host"] == mosquitto.host
    # The user types the right password: the entry is made.
    result = await submit(
        hass, result["flow_id"], {**suggested_values(result), "password": mosquitto.password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["password"] == mosquitto.password


async def test_broker_already_added_is_not_offered_twice(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    mqtt_entry(hass, mosquitto)
    for expected in ("create_entry", "already_configured"):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "mqtt_integration"}
        )
        result = await submit(hass, result["flow_id"], {})
        assert result.get("reason", result["type"]) == expected


async def _discovery_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Wait for IoT Hub's discovery flow (Home Assistant fires an event when one starts)."""
    found = asyncio.Event()

    @callback
    def discovered(_: Any) -> None:
        found.set()

    unsub = hass.bus.async_listen("config_entry_discovered", discovered)
    try:
        async with asyncio.timeout(TIMEOUT):
            while not (flows := hass.config_entries.flow.async_progress_by_handler(DOMAIN)):
                await found.wait()
                found.clear()
    finally:
        unsub()
    assert len(flows) == 1
    return dict(flows[0])


async def test_discovered_through_the_mqtt_integration(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    source = mqtt_entry(hass, mosquitto)
    # The MQTT integration reads its YAML part at setup: an empty configuration will do.
    config = Path(hass.config.path("configuration.yaml"))
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("", encoding="utf-8")
    assert await hass.config_entries.async_setup(source.entry_id)
    await hass.async_block_till_done()
    assert source.state is ConfigEntryState.LOADED
    # Retained: there when the MQTT integration subscribes to the manifest's topics.
    await mosquitto.publish(
        "dht11/sensor/data", '{"temperature": 21.5, "humidity": 40}', retain=True
    )
    flow = await _discovery_flow(hass)
    assert flow["context"]["source"] == "mqtt"
    assert flow["context"]["title_placeholders"] == {
        "name": f"{mosquitto.host}:{mosquitto.port_password}"
    }
    assert flow["step_id"] == "mqtt_confirm"
    # More readings: still one offer.
    await mosquitto.publish("dht11/sensor/data", '{"temperature": 21.6, "humidity": 40}')
    await hass.async_block_till_done()
    assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1
    result = await submit(hass, flow["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == f"mqtt_integration:{source.entry_id}"
    # Once added, the discovery of the same broker ends at once.
    await mosquitto.publish("iot/sensors/esp32-a/data", '{"temperature": 20}')
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_discovery_aborts_when_the_broker_is_already_set_up(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    source = mqtt_entry(hass, mosquitto)
    MockConfigEntry(
        domain=DOMAIN,
        data={"host": mosquitto.host, "port": mosquitto.port_password, "kind": "broker"},
    ).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": "mqtt"},
        data=_service_info("dht11/status"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert source.entry_id


async def test_discovery_keeps_the_entry_on_the_mqtt_integrations_address(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    """Discovery-update-info: the MQTT integration's broker moved, the entry follows."""
    source = mqtt_entry(hass, mosquitto)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"mqtt_integration:{source.entry_id}",
        data={"host": "old-name.local", "port": 1884, "kind": "broker"},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "mqtt"}, data=_service_info("dht11/sensor/data")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert (entry.data["host"], entry.data["port"]) == (mosquitto.host, mosquitto.port_password)


async def test_discovered_topic_is_shown_short_and_printable(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    """A hostile device id (huge, with control characters) cannot flood the confirm screen."""
    mqtt_entry(hass, mosquitto)
    topic = "iot/devices/" + "x\x1b[2J" * 10_000 + "/status"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "mqtt"}, data=_service_info(topic)
    )
    assert result["step_id"] == "mqtt_confirm"
    shown = (result["description_placeholders"] or {})["topic"]
    assert shown.startswith("iot/devices/x")
    assert len(shown) <= 200
    assert "\x1b" not in shown


async def test_discovery_without_the_mqtt_integrations_entry(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "mqtt"}, data=_service_info("dht11/sensor/data")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


def _service_info(topic: str) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=topic,
        payload="{}",
        qos=0,
        retain=False,
        subscribed_topic=topic,
        timestamp=0.0,
    )


def test_manifest_topics_are_routed_to_a_family() -> None:
    """Every topic the manifest declares for discovery is one IoT Hub decodes, none its own."""
    manifest = json.loads(
        (Path(__file__).parents[1] / "custom_components/iot_hub/manifest.json").read_text()
    )
    router = TopicRouter(DEFAULT_BASES)
    for topic in manifest["mqtt"]:
        concrete = topic.replace("+", "device-1")
        assert router.route(concrete) is not None, topic
    # Not the topics a fleet floods: each message there starts a discovery flow in Home
    # Assistant's MQTT integration (aborted at once once set up, but not free).
    assert "iot/sensors/+/data" not in manifest["mqtt"]
    # What IoT Hub publishes itself must never offer it.
    assert router.incident_topic("incidents") not in manifest["mqtt"]
    assert router.incident_topic("alerts") not in manifest["mqtt"]
