"""Subscriptions the broker's ACL refuses: the entry loads and a repair issue names them."""

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from . import broker as test_broker
from .broker import Mosquitto
from .conftest import broker_data
from .helpers import (
    DOMAIN,
    ESP32_TOPIC,
    ESP_TEMP,
    SEED_002_ESP32,
    broker_connection,
    setup_entry,
    wait_for_value,
)

# The fixture, visible to this module.
make_mosquitto = test_broker.make_mosquitto

DHT11_TOPICS = "dht11/sensor/data, dht11/status, dht11/incidents"


def acl_entry(hass: HomeAssistant, broker: Mosquitto) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{broker.host}:{broker.port_password}",
        data=broker_data(broker),
        version=1,
        minor_version=3,
    )
    entry.add_to_hass(hass)
    return entry


def issue_of(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"subscription_refused_{entry.entry_id}")


async def test_refused_families_raise_an_issue_and_the_rest_works(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    broker = make_mosquitto(acl=["iot/#"])
    entry = acl_entry(hass, broker)
    await setup_entry(hass, entry)

    issue = issue_of(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "subscription_refused"
    assert not issue.is_fixable
    assert issue.translation_placeholders == {
        "broker": f"{broker.host}:{broker.port_password}",
        "topics": f"{DHT11_TOPICS}, sensor/+",
        "families": "dht11, events",
    }
    assert entry.runtime_data.refused_subscriptions == [*DHT11_TOPICS.split(", "), "sensor/+"]
    # The connection and the allowed family work.
    await wait_for_value(hass, broker_connection(broker), "on")
    await broker.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")

    # The user turns the refused families off: every subscription is accepted, the issue goes.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"]
    assert schema is not None
    options = {**schema({}), "dht11_enabled": False, "events_enabled": False}
    result = await hass.config_entries.options.async_configure(result["flow_id"], options)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_of(hass, entry) is None
    await broker.publish(ESP32_TOPIC, SEED_002_ESP32.replace("23.5", "24.5"))
    await wait_for_value(hass, ESP_TEMP, "24.5")


async def test_every_subscription_refused_still_loads(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    broker = make_mosquitto(acl=["elsewhere/#"])
    entry = acl_entry(hass, broker)
    await setup_entry(hass, entry)
    issue = issue_of(hass, entry)
    assert issue is not None
    placeholders = issue.translation_placeholders or {}
    assert placeholders["topics"] == (
        f"{DHT11_TOPICS}, sensor/+, iot/sensors/+/data, iot/devices/+/status, iot/alerts/+"
    )
    assert placeholders["families"] == "dht11, events, iot"
    # The hub shows the broker connected.
    await wait_for_value(hass, broker_connection(broker), "on")
    assert entry.runtime_data.client.connected
    # Unloaded (or removed), the entry leaves no issue behind.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue_of(hass, entry) is None
