"""Another client with the entry's client id: a repair issue, no flapping, gone once stable."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.iot_hub.broker.client_id import STABLE_SECONDS, DuplicateClientId
from custom_components.iot_hub.const import CONF_CLIENT_ID
from custom_components.iot_hub.core.mqtt.settings import Protocol

from .broker import Mosquitto
from .core.mqtt.helpers import get
from .core.mqtt.test_takeover import GROWING, Intruder, RecordingBackoff
from .helpers import (
    DOMAIN,
    ESP32_TOPIC,
    ESP_TEMP,
    SEED_002_ESP32,
    broker_connection,
    record_states,
    setup_entry,
    wait_for_value,
)

CLIENT_ID = "iot_hub-0123456789"  # conftest.broker_data's


@pytest.fixture(autouse=True)
def fast_backoff() -> Iterator[list[RecordingBackoff]]:
    """Short reconnect delays without jitter, recorded (replaces conftest's)."""
    backoffs: list[RecordingBackoff] = []

    def make() -> RecordingBackoff:
        backoffs.append(backoff := RecordingBackoff())
        return backoff

    with patch("custom_components.iot_hub.broker.runtime.Backoff", make):
        yield backoffs


def issue_of(hass: HomeAssistant, entry: MockConfigEntry | str) -> ir.IssueEntry | None:
    entry_id = entry if isinstance(entry, str) else entry.entry_id
    return ir.async_get(hass).async_get_issue(DOMAIN, f"duplicate_client_id_{entry_id}")


def issue_actions(hass: HomeAssistant, entry_id: str) -> list[str]:
    """Collect the registry's actions (create, update, remove) on the entry's issue."""
    actions: list[str] = []

    @callback
    def updated(event: Event[Any]) -> None:
        if event.data["issue_id"] == f"duplicate_client_id_{entry_id}":
            actions.append(event.data["action"])

    hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, updated)
    return actions


def fire_in(hass: HomeAssistant, seconds: float) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))


async def test_a_client_using_our_client_id_raises_an_issue_and_nothing_flaps(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Any,
    fast_backoff: list[RecordingBackoff],
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    backoff = fast_backoff[-1]
    connection = broker_connection(mosquitto)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    connection_states = record_states(hass, connection)
    temperatures = record_states(hass, ESP_TEMP)
    actions = issue_actions(hass, entry.entry_id)

    with Intruder(mosquitto, entry.data[CONF_CLIENT_ID], Protocol.V311) as intruder:
        drawn = [await get(backoff.drawn) for _ in GROWING]
        flaps = connection_states.count("off")
        # Reconnecting slows down while the intruder keeps kicking us.
        assert drawn == GROWING
        # The third short connection raised the issue, once.
        assert actions == ["create"]
        issue = issue_of(hass, entry)
        assert issue is not None
        assert issue.translation_key == "duplicate_client_id"
        assert issue.severity is ir.IssueSeverity.WARNING
        assert not issue.is_fixable
        assert issue.translation_placeholders == {
            "broker": f"{mosquitto.host}:{mosquitto.port_password}",
            "client_id": CLIENT_ID,
        }
        # The connection sensor went off at most once per reconnect delay; the devices'
        # entities kept their states (the losses are shorter than the availability grace).
        print(f"duplicate client id: {flaps} connection flaps while drawing {drawn}")
        assert 1 <= flaps <= len(drawn)
        assert temperatures == []

        intruder.leave()
        await intruder.wait_gone()

    # Our reconnect took the connection back and keeps it.
    await wait_for_value(hass, connection, "on")
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32.replace("23.5", "24.5"))
    await wait_for_value(hass, ESP_TEMP, "24.5")
    assert entry.runtime_data.client.connected
    # Still there until the connection has held for ten minutes.
    fire_in(hass, STABLE_SECONDS - 60)
    await hass.async_block_till_done()
    assert issue_of(hass, entry) is not None
    fire_in(hass, STABLE_SECONDS + 1)
    await hass.async_block_till_done()
    assert issue_of(hass, entry) is None
    assert actions == ["create", "remove"]


async def test_unloading_the_entry_removes_the_issue(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Any,
    fast_backoff: list[RecordingBackoff],
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    backoff = fast_backoff[-1]
    with Intruder(mosquitto, entry.data[CONF_CLIENT_ID], Protocol.V311):
        for _ in range(3):
            await get(backoff.drawn)
        assert issue_of(hass, entry) is not None
        assert await hass.config_entries.async_unload(entry.entry_id)
        assert issue_of(hass, entry) is None


async def test_the_issue_goes_only_after_ten_minutes_without_a_loss(hass: HomeAssistant) -> None:
    issue = DuplicateClientId(hass, "entry", "broker.lan:1883", CLIENT_ID)
    actions = issue_actions(hass, "entry")
    issue.taken_over()
    issue.taken_over()  # every later short connection says it again
    assert actions == ["create"]
    placeholders = (issue_of(hass, "entry") or pytest.fail("no issue")).translation_placeholders
    assert placeholders == {"broker": "broker.lan:1883", "client_id": CLIENT_ID}

    # Lost after five minutes: the count starts again at the next connection.
    issue.connection_changed(True)
    fire_in(hass, 300)
    issue.connection_changed(False)
    fire_in(hass, STABLE_SECONDS + 1)
    await hass.async_block_till_done()
    assert issue_of(hass, "entry") is not None
    issue.connection_changed(True)
    issue.taken_over()  # a takeover while counting stops the count too
    fire_in(hass, STABLE_SECONDS + 1)
    await hass.async_block_till_done()
    assert issue_of(hass, "entry") is not None

    issue.connection_changed(True)
    fire_in(hass, STABLE_SECONDS + 1)
    await hass.async_block_till_done()
    assert issue_of(hass, "entry") is None
    assert not issue.raised
    # A connection without an issue schedules nothing; stop() is harmless.
    issue.connection_changed(True)
    issue.stop()
    assert actions == ["create", "remove"]
