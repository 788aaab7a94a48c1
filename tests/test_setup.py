"""Setup, unload, migration, availability and device removal, against a real broker."""

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from .broker import Mosquitto
from .helpers import (
    DHT11_HUM,
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    broker_connection,
    device_of,
    record_states,
    setup_entry,
    wait_for_log,
    wait_for_value,
)

LOST = "Lost connection to MQTT broker"


async def test_unload_makes_entities_unavailable(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(DHT11_TEMP).state == STATE_UNAVAILABLE
    assert hass.states.get(broker_connection(mosquitto)).state == STATE_UNAVAILABLE


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
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await setup_entry(hass, make_entry())
    broker = broker_connection(mosquitto)
    assert hass.states.get(broker).state == "on"
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    connection = record_states(hass, broker)

    mosquitto.kill()
    await wait_for_value(hass, broker, "off")
    # Inside the grace period nothing the user looks at changes.
    assert hass.states.get(DHT11_TEMP).state == "25.0"

    mosquitto.restart()
    await wait_for_value(hass, broker, "on")
    assert hass.states.get(DHT11_TEMP).state == "25.0"
    # The subscription came back: a new reading arrives.
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":21.5,"humidity":40}')
    await wait_for_value(hass, DHT11_TEMP, "21.5")
    await wait_for_value(hass, DHT11_HUM, "40.0")
    # One outage, seen once: by the connection sensor and in the log.
    assert connection == ["off", "on"]
    assert [r.levelname for r in caplog.records if LOST in r.getMessage()] == ["WARNING"]


async def test_long_outage_makes_entities_unavailable(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    await setup_entry(hass, make_entry(options={"availability_grace": 0}))
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    mosquitto.kill()
    await wait_for_value(hass, DHT11_TEMP, STATE_UNAVAILABLE)
    mosquitto.restart()
    await wait_for_value(hass, DHT11_TEMP, "25.0")


async def test_runtime_credential_refusal_starts_reauth(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    await setup_entry(hass, make_entry())
    broker = broker_connection(mosquitto)
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
    # The broker refuses us: the connection shows as down.
    assert hass.states.get(broker).state == "off"


async def test_messages_sent_while_unloaded_arrive_after_reload(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Persistent session + QoS 1: the broker keeps this for us.
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":18.5,"humidity":70}')
    await setup_entry(hass, entry)
    await wait_for_value(hass, DHT11_TEMP, "18.5")
    await wait_for_value(hass, DHT11_HUM, "70.0")


async def test_user_can_delete_a_device_and_it_comes_back(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    device = device_of(device_registry, entry, "dht11")
    hub_device = device_of(device_registry, entry)
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
    assert hass.states.get(DHT11_TEMP) is None
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":22,"humidity":50}')
    await wait_for_value(hass, DHT11_TEMP, "22.0")


async def test_entry_from_a_newer_version_is_refused(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    hass.config_entries.async_update_entry(entry, version=2)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


async def test_entry_1_1_migrates_to_1_3(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    assert (entry.version, entry.minor_version) == (1, 1)
    assert "kind" not in entry.data
    await setup_entry(hass, entry)
    assert (entry.version, entry.minor_version) == (1, 3)
    # 1.2: the entry says its kind. 1.3: the default incident rules (tested in incidents/).
    assert entry.data["kind"] == "broker"


async def test_home_assistant_stop_disconnects_cleanly(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    # The broker got a DISCONNECT (no dropped socket, no last will)...
    await wait_for_log(mosquitto, f"Client {entry.data['client_id']} disconnected.")
    # ...and a deliberate disconnect is no outage.
    assert not [r for r in caplog.records if LOST in r.getMessage()]
