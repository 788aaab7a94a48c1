"""The `iot_hub.send_command` action: what reaches the device's topic, and its refusals."""

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.broker.commands import (
    MAX_COMMAND_BYTES,
    MAX_COMMAND_DEPTH,
    command_payload,
)
from custom_components.iot_hub.core.local.common import MAX_PAYLOAD_BYTES

from .broker import Mosquitto
from .helpers import (
    ESP32_TOPIC,
    ESP_TEMP,
    MOTION,
    SEED_001_MOTION,
    SEED_002_ESP32,
    broker_connection,
    device_of,
    live_subscriber,
    setup_entry,
    wait_for_value,
)


async def _call(hass: HomeAssistant, device_id: str) -> None:
    await hass.services.async_call(
        "iot_hub", "send_command", {"device_id": device_id, "payload": {"a": 1}}, blocking=True
    )


async def test_send_command(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    device = device_of(device_registry, entry, "ESP32_001")
    async with live_subscriber(mosquitto, "iot/devices/ESP32_001/commands") as stdout:
        await hass.services.async_call(
            "iot_hub",
            "send_command",
            {"device_id": device.id, "payload": {"action": "reboot", "delay": 5}},
            blocking=True,
        )
        received = bytes.fromhex((await stdout.read()).decode().strip())
    assert received == b'{"action":"reboot","delay":5}'


async def test_send_command_refusals(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    bad = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("iot_hub", f"{entry.entry_id}_a/#")}
    )
    other = MockConfigEntry(domain="other_integration")
    other.add_to_hass(hass)
    foreign = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other_integration", "ESP32_001")}
    )
    cases: list[tuple[str, str]] = [
        (bad.id, "invalid_device_id"),
        (device_of(device_registry, entry).id, "device_not_found"),  # the hub itself
        (foreign.id, "device_not_found"),
        ("no-such-device", "device_not_found"),
    ]
    for device_id, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, device_id)
        assert err.value.translation_key == key
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, bad.id)
    assert err.value.translation_key == "entry_not_loaded"


async def test_iot_family_off_refuses_commands(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry(options={"iot_enabled": False})
    await setup_entry(hass, entry)
    await mosquitto.publish("sensor/motion", SEED_001_MOTION)
    await wait_for_value(hass, MOTION, "on")
    device = device_of(device_registry, entry, "raspberry-1")
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, device.id)
    assert err.value.translation_key == "commands_disabled"


async def test_command_while_the_broker_is_down_fails(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    device = device_of(device_registry, entry, "ESP32_001")
    mosquitto.kill()
    await wait_for_value(hass, broker_connection(mosquitto), "off")
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, device.id)
    assert err.value.translation_key == "command_failed"
    assert err.value.translation_placeholders["device"] == "ESP32_001"


def _nested(depth: int) -> list[Any]:
    payload: list[Any] = []
    for _ in range(depth - 1):
        payload = [payload]
    return payload


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        (_nested(300), "payload_too_deep"),
        ({"a": _nested(MAX_COMMAND_DEPTH)}, "payload_too_deep"),
        ({"blob": "x" * MAX_COMMAND_BYTES}, "payload_too_large"),
        ([0] * (MAX_COMMAND_BYTES // 2), "payload_too_large"),
        ({"blob": "x" * (50 * 1024 * 1024)}, "payload_too_large"),
        ({"big": 2**70}, "invalid_payload"),
        ({"set": {1, 2}}, "invalid_payload"),
        ({"a": {1: "not a text key"}}, "invalid_payload"),
    ],
    ids=["deep", "one-too-deep", "large-text", "large-list", "50-mib", "big-int", "set", "int-key"],
)
async def test_send_command_refuses_unsendable_payloads(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    payload: object,
    key: str,
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    await mosquitto.publish(ESP32_TOPIC, SEED_002_ESP32)
    await wait_for_value(hass, ESP_TEMP, "23.5")
    device = device_of(device_registry, entry, "ESP32_001")
    async with live_subscriber(mosquitto, "iot/devices/ESP32_001/commands") as stdout:
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                "iot_hub",
                "send_command",
                {"device_id": device.id, "payload": payload},
                blocking=True,
            )
        assert err.value.translation_key == key
        # Nothing was published: the first command the device gets is the next, valid one.
        deepest = _nested(MAX_COMMAND_DEPTH)
        await hass.services.async_call(
            "iot_hub", "send_command", {"device_id": device.id, "payload": deepest}, blocking=True
        )
        received = bytes.fromhex((await stdout.read()).decode().strip())
    assert received == b"[" * MAX_COMMAND_DEPTH + b"]" * MAX_COMMAND_DEPTH


def test_command_limits() -> None:
    """As large as what is taken from a device; exactly at each limit is still sent."""
    assert MAX_COMMAND_BYTES == MAX_PAYLOAD_BYTES == 64 * 1024
    room = MAX_COMMAND_BYTES - len('{"blob":""}')
    largest = {"blob": "é" * (room // 2) + "x" * (room % 2)}  # "é" is two bytes
    assert len(command_payload(largest)) == MAX_COMMAND_BYTES
    items = [0] * ((MAX_COMMAND_BYTES - 1) // 2)  # "[0,0,...,0]"
    assert len(command_payload(items)) == MAX_COMMAND_BYTES - 1
    assert command_payload({"a": [{"b": [1]}]}) == b'{"a":[{"b":[1]}]}'
    for too_large in ({"blob": "x" * MAX_COMMAND_BYTES}, [0] * MAX_COMMAND_BYTES):
        with pytest.raises(ServiceValidationError) as err:
            command_payload(too_large)
        assert err.value.translation_key == "payload_too_large"
        assert err.value.translation_placeholders == {"limit": str(MAX_COMMAND_BYTES)}
