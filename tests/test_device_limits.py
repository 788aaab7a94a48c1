"""A flood of new device ids: a bound on devices, allowed ids, and the repair issue."""

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from .broker import Mosquitto
from .helpers import (
    DHT11_READING,
    DHT11_TEMP,
    DHT11_TOPIC,
    DOMAIN,
    TIMEOUT,
    device_of,
    hub_sensor,
    setup_entry,
    wait_for_value,
)

BOUND = 5
EXTRA = 20


def reading(temperature: float) -> str:
    return f'{{"temperature":{temperature},"humidity":50}}'


def iot_topic(device_id: str) -> str:
    return f"iot/sensors/{device_id}/data"


def devices_of(device_registry: dr.DeviceRegistry, entry: MockConfigEntry) -> set[str]:
    """Names of the entry's devices, the hub device aside."""
    return {
        device.name or ""
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        if device.entry_type is None
    }


def issue_id(entry: MockConfigEntry) -> str:
    return f"device_limit_{entry.entry_id}"


async def wait_for_issue(
    hass: HomeAssistant,
    issue: str,
    predicate: Callable[[ir.IssueEntry | None], bool],
    timeout: float = TIMEOUT,
) -> ir.IssueEntry | None:
    """Return the issue (or None) once `predicate` holds for it, now or after an update."""
    registry = ir.async_get(hass)
    if predicate(found := registry.async_get_issue(DOMAIN, issue)):
        return found
    done: asyncio.Future[ir.IssueEntry | None] = hass.loop.create_future()

    @callback
    def updated(event: Event[Any]) -> None:
        current = registry.async_get_issue(DOMAIN, issue)
        if predicate(current) and not done.done():
            done.set_result(current)

    unsub = hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, updated)
    try:
        async with asyncio.timeout(timeout):
            return await done
    except TimeoutError:
        raise AssertionError(
            f"issue {issue} never matched; last: {registry.async_get_issue(DOMAIN, issue)}"
        ) from None
    finally:
        unsub()


async def flood(mosquitto: Mosquitto, count: int) -> list[str]:
    """Publish one reading from each of `count` new device ids; return the ids."""
    ids = [f"dev{n:02d}" for n in range(count)]
    for device_id in ids:
        await mosquitto.publish(iot_topic(device_id), reading(20))
    return ids


async def set_options(
    hass: HomeAssistant, entry: MockConfigEntry, **changes: Any
) -> dict[str, Any]:
    """Submit the options form with the entry's options changed; return the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"]
    assert schema is not None
    current = schema({**entry.options})
    current.update(changes)
    current = {key: value for key, value in current.items() if value is not None}
    return await hass.config_entries.options.async_configure(result["flow_id"], current)


async def test_device_flood_is_bounded_and_raises_a_repair_issue(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"max_devices": BOUND})
    await setup_entry(hass, entry)
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")

    ids = await flood(mosquitto, BOUND - 1 + EXTRA)
    rejected = hub_sensor(mosquitto, "rejected_messages")
    await wait_for_value(hass, rejected, str(EXTRA))
    await hass.async_block_till_done()

    # Exactly the bound: the DHT11 and the first ids; every later id refused whole.
    admitted = ids[: BOUND - 1]
    assert devices_of(device_registry, entry) == {"DHT11", *admitted}
    for device_id in admitted:
        assert hass.states.get(f"sensor.{device_id}_temperature") is not None
    for device_id in ids[BOUND - 1 :]:
        assert hass.states.get(f"sensor.{device_id}_temperature") is None
    assert len(entry.runtime_data.devices.states) == BOUND

    issue = await wait_for_issue(
        hass,
        issue_id(entry),
        lambda i: i is not None and (i.translation_placeholders or {}).get("count") == str(EXTRA),
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == "device_limit"
    assert not issue.is_fixable
    assert issue.translation_placeholders == {
        "broker": entry.runtime_data.name,
        "count": str(EXTRA),
        "max_devices": str(BOUND),
    }

    # A refused id sending again is counted again, but not as a new id.
    await mosquitto.publish(iot_topic(ids[-1]), reading(21))
    await wait_for_value(hass, rejected, str(EXTRA + 1))
    assert entry.runtime_data.devices.refused_count == EXTRA

    # Known devices keep working.
    await mosquitto.publish(iot_topic(admitted[0]), reading(30.5))
    await wait_for_value(hass, f"sensor.{admitted[0]}_temperature", "30.5")
    await mosquitto.publish(DHT11_TOPIC, '{"temperature":26,"humidity":60}')
    await wait_for_value(hass, DHT11_TEMP, "26.0")

    # Raising the bound ends it: the issue goes and a new device is created, whole.
    result = await set_options(hass, entry, max_devices=BOUND + 10)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    await mosquitto.publish(iot_topic("newcomer"), reading(19))
    await wait_for_value(hass, "sensor.newcomer_temperature", "19.0")
    assert hass.states.get("sensor.newcomer_humidity") is not None
    assert hass.states.get("binary_sensor.newcomer_connectivity") is not None
    assert "newcomer" in devices_of(device_registry, entry)


async def test_deleting_devices_makes_room_and_ends_the_issue(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    entry = make_entry(options={"max_devices": 2})
    await setup_entry(hass, entry)
    await flood(mosquitto, 3)
    await wait_for_value(hass, hub_sensor(mosquitto, "rejected_messages"), "1")
    await wait_for_issue(hass, issue_id(entry), lambda i: i is not None)

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device_of(device_registry, entry, "dev00").id,
        }
    )
    assert (await client.receive_json())["success"]
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None
    # The refused id is now created, whole.
    await mosquitto.publish(iot_topic("dev02"), reading(22))
    await wait_for_value(hass, "sensor.dev02_temperature", "22.0")
    assert devices_of(device_registry, entry) == {"dev01", "dev02"}


async def test_device_id_pattern_refuses_other_ids(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"device_id_pattern": r"ESP32_\d+"})
    await setup_entry(hass, entry)
    await mosquitto.publish(iot_topic("rogue_1"), reading(20))
    # Not a full match: refused too.
    await mosquitto.publish(iot_topic("ESP32_001x"), reading(20))
    event = (
        '{"event_id": "e-1", "device_id": "rogue_2", "type": "MOTION_DETECTED",'
        ' "data": {"presence": true}}'
    )
    await mosquitto.publish("sensor/motion", event)
    await wait_for_value(hass, hub_sensor(mosquitto, "rejected_messages"), "3")
    await mosquitto.publish(iot_topic("ESP32_001"), reading(23.5))
    await wait_for_value(hass, "sensor.esp32_001_temperature", "23.5")
    # The DHT11 names itself: the pattern does not apply to it.
    await mosquitto.publish(DHT11_TOPIC, DHT11_READING)
    await wait_for_value(hass, DHT11_TEMP, "25.0")
    await hass.async_block_till_done()
    assert devices_of(device_registry, entry) == {"ESP32_001", "DHT11"}
    # Not the bound: no repair issue.
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry)) is None


async def test_options_validate_the_device_id_pattern(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await set_options(hass, entry, device_id_pattern="(ESP32")
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"device_id_pattern": "invalid_device_id_pattern"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**entry.options, **_defaults(result), "device_id_pattern": " ESP32_.* "},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["device_id_pattern"] == "ESP32_.*"
    assert entry.options["max_devices"] == 1000
    await hass.async_block_till_done()
    pattern = entry.runtime_data.devices.pattern
    assert pattern is not None
    assert pattern.pattern == "ESP32_.*"
    # Emptied: the option goes (any valid id again).
    result = await set_options(hass, entry, device_id_pattern="")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "device_id_pattern" not in entry.options
    await hass.async_block_till_done()
    assert entry.runtime_data.devices.pattern is None


def _defaults(result: Any) -> dict[str, Any]:
    schema = result["data_schema"]
    return {key: value for key, value in schema({}).items() if value is not None}
