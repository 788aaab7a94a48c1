"""Setup, entities and runtime behaviour against a real broker."""

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    EVENT_HOMEASSISTANT_STOP,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from .broker import Mosquitto
from .helpers import wait_for_value

TEMP = "sensor.dht11_temperature"
HUM = "sensor.dht11_humidity"
BROKER = "binary_sensor.iot_hub_127_0_0_1_{port}_broker_connection"


async def test_seed_dht11_message_creates_device_and_sensors(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    entry = make_entry()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(TEMP) is None  # nothing published yet

    # The seed's own command.
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    temp = await wait_for_value(hass, TEMP, "25.0")
    hum = await wait_for_value(hass, HUM, "60.0")
    assert temp.attributes[ATTR_UNIT_OF_MEASUREMENT] == "°C"
    assert temp.attributes["device_class"] == "temperature"
    assert temp.attributes["state_class"] == "measurement"
    assert hum.attributes[ATTR_UNIT_OF_MEASUREMENT] == "%"
    assert hum.attributes["device_class"] == "humidity"

    reg = entity_registry.async_get(TEMP)
    assert reg is not None
    assert reg.unique_id == f"{entry.entry_id}_dht11_temperature"
    device = device_registry.async_get(reg.device_id or "")
    assert device is not None
    assert device.model == "DHT11"
    hub = device_registry.async_get_device_by_identifier(
        ("iot_hub", entry.entry_id), entry.entry_id
    )
    assert hub is not None
    assert device.via_device_id == hub.id

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(TEMP).state == STATE_UNAVAILABLE


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_broker_unreachable_at_start_retries(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    mosquitto.kill()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot connect to the MQTT broker" in str(entry.reason)


async def test_refused_credentials_at_start_start_reauth(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(password="wrong")
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler("iot_hub")
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_broker_restart_within_grace_keeps_states(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    broker = BROKER.format(port=mosquitto.port_password)
    assert hass.states.get(broker).state == "on"
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    await wait_for_value(hass, TEMP, "25.0")

    mosquitto.kill()
    await wait_for_value(hass, broker, "off")
    # Inside the grace period nothing the user looks at changes.
    assert hass.states.get(TEMP).state == "25.0"

    mosquitto.restart()
    await wait_for_value(hass, broker, "on")
    assert hass.states.get(TEMP).state == "25.0"
    # The subscription came back: a new reading arrives.
    await mosquitto.publish("dht11/sensor/data", '{"temperature":21.5,"humidity":40}')
    await wait_for_value(hass, TEMP, "21.5")
    await wait_for_value(hass, HUM, "40.0")
    assert entry.runtime_data.client.stats.connection_losses == 1


async def test_long_outage_makes_entities_unavailable(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(options={"availability_grace": 0})
    await _setup(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    await wait_for_value(hass, TEMP, "25.0")
    mosquitto.kill()
    await wait_for_value(hass, TEMP, STATE_UNAVAILABLE)
    mosquitto.restart()
    await wait_for_value(hass, TEMP, "25.0")


async def test_runtime_credential_refusal_starts_reauth(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    mosquitto.kill()
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_passwd", "-b", str(mosquitto.password_file), "iot", "changed"
    )
    assert await proc.wait() == 0
    added: asyncio.Future[str] = hass.loop.create_future()
    unsub = hass.config_entries.flow.async_subscribe_flow(
        lambda change, flow_id: added.done() or added.set_result(flow_id)
    )
    mosquitto.restart()
    async with asyncio.timeout(15):
        await added
    unsub()
    flows = hass.config_entries.flow.async_progress_by_handler("iot_hub")
    assert flows[0]["context"]["source"] == "reauth"
    assert not entry.runtime_data.client.connected


async def test_messages_sent_while_unloaded_arrive_after_reload(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    await wait_for_value(hass, TEMP, "25.0")
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Persistent session + QoS 1: the broker keeps this for us.
    await mosquitto.publish("dht11/sensor/data", '{"temperature":18.5,"humidity":70}')
    await _setup(hass, entry)
    await wait_for_value(hass, TEMP, "18.5")
    await wait_for_value(hass, HUM, "70.0")


async def test_states_restored_after_reload(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(options={"clean_session": True})
    await _setup(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature":23.4,"humidity":51}')
    await wait_for_value(hass, TEMP, "23.4")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # Nothing was published since: the last values come back, not "unknown".
    assert hass.states.get(TEMP).state == "23.4"
    assert hass.states.get(HUM).state == "51.0"
    await mosquitto.publish("dht11/sensor/data", '{"temperature":23.9}')
    await wait_for_value(hass, TEMP, "23.9")
    assert hass.states.get(HUM).state == "51.0"


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
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    payload: str,
    reason: str,
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    await wait_for_value(hass, TEMP, "25.0")
    for _ in range(3):
        await mosquitto.publish("dht11/sensor/data", payload)
    # A good message after the bad ones proves they were all processed.
    await mosquitto.publish("dht11/sensor/data", '{"temperature":26,"humidity":60}')
    await wait_for_value(hass, TEMP, "26.0")
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diag["runtime"]["rejections"] == {reason: 3}
    assert len(diag["runtime"]["rejected_samples"]) == 3
    logged = [r for r in caplog.records if "Ignored a message on dht11/sensor/data" in r.message]
    assert len(logged) == 1
    assert reason in logged[0].message


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
    await _setup(hass, entry)
    diag = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = str(diag)
    for secret in (mosquitto.password, "PRIVATE KEY", "BEGIN CERTIFICATE"):
        assert secret not in text
    assert diag["entry"]["data"]["password"] == "**REDACTED**"
    assert diag["entry"]["data"]["host"] == "127.0.0.1"
    assert diag["runtime"]["connected"] is True
    assert diag["runtime"]["subscriptions"] == {
        "dht11/sensor/data": 1,
        "dht11/status": 1,
        "sensor/+": 1,
        "iot/sensors/+/data": 1,
        "iot/devices/+/status": 1,
        "iot/alerts/+": 1,
    }


async def test_user_can_delete_a_device_and_it_comes_back(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    entry = make_entry()
    await _setup(hass, entry)
    await mosquitto.publish("dht11/sensor/data", '{"temperature":25,"humidity":60}')
    await wait_for_value(hass, TEMP, "25.0")
    device = device_registry.async_get_device_by_identifier(
        ("iot_hub", f"{entry.entry_id}_dht11"), entry.entry_id
    )
    hub_device = device_registry.async_get_device_by_identifier(
        ("iot_hub", entry.entry_id), entry.entry_id
    )
    assert device is not None
    assert hub_device is not None
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> dict[str, Any]:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device_id,
            }
        )
        return await client.receive_json()

    # The hub device stands for the broker: it cannot be deleted.
    assert not (await remove(hub_device.id))["success"]
    assert (await remove(device.id))["success"]
    await hass.async_block_till_done()
    assert hass.states.get(TEMP) is None
    await mosquitto.publish("dht11/sensor/data", '{"temperature":22,"humidity":50}')
    await wait_for_value(hass, TEMP, "22.0")


async def test_entry_from_a_newer_version_is_refused(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    hass.config_entries.async_update_entry(entry, version=2)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


async def test_home_assistant_stop_disconnects(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await _setup(hass, entry)
    hub = entry.runtime_data
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert not hub.client.connected
    # A deliberate disconnect is no outage.
    assert hub.client.stats.connection_losses == 0


async def test_entry_1_1_migrates_to_1_2_with_its_kind(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    assert (entry.version, entry.minor_version) == (1, 1)
    assert "kind" not in entry.data
    await _setup(hass, entry)
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.data["kind"] == "broker"


async def test_entry_from_the_future_is_refused(
    hass: HomeAssistant, mosquitto: Mosquitto
) -> None:
    entry = MockConfigEntry(domain="iot_hub", data={"kind": "broker"}, version=2)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
