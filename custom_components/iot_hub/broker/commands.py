"""What a broker entry publishes: device commands, and incident changes for the users' system."""

import logging
from typing import Final

from homeassistant.exceptions import ServiceValidationError
import orjson

from ..core.local.common import MAX_PAYLOAD_BYTES, valid_device_id
from ..core.local.redact import printable
from ..core.local.topics import TopicRouter
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import MqttError
from .errors import command_failed, service_error

_LOGGER = logging.getLogger(__name__)

# A command is at most as large, serialised, as the largest message taken from a device.
MAX_COMMAND_BYTES: Final = MAX_PAYLOAD_BYTES
# Levels of nested lists and objects in a command (the payload itself is the first).
MAX_COMMAND_DEPTH: Final = 32


def _too_large() -> ServiceValidationError:
    return service_error("payload_too_large", limit=str(MAX_COMMAND_BYTES))


def _check_shape(value: object) -> None:
    """Refuse a payload nested too deep, or surely too large once serialised.

    Iterative, and its work is bounded by the size limit whatever the value: each
    item counted is at least one byte of JSON (a string, at least its length).
    """
    budget = MAX_COMMAND_BYTES
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list | tuple):
            budget -= len(item) if isinstance(item, str) else 1
            if budget < 0:
                raise _too_large()
            continue
        if depth > MAX_COMMAND_DEPTH:
            raise service_error("payload_too_deep", limit=str(MAX_COMMAND_DEPTH))
        # Two brackets and a separator between items, counted before looking at any item.
        budget -= 1 + len(item)
        if budget < 0:
            raise _too_large()
        if isinstance(item, dict):
            budget -= sum(len(key) if isinstance(key, str) else 1 for key in item)
            if budget < 0:
                raise _too_large()
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


def command_payload(value: object) -> bytes:
    """Serialise an action's payload for a device; raise translated errors, never a raw one."""
    _check_shape(value)
    try:
        payload = orjson.dumps(value)
    except orjson.JSONEncodeError as err:  # a set, an integer over 64 bits, a key not text...
        raise service_error("invalid_payload", error=printable(str(err))) from err
    if len(payload) > MAX_COMMAND_BYTES:
        raise _too_large()
    return payload


async def send_command(
    client: MqttClient, router: TopicRouter, device_id: str, payload: bytes
) -> None:
    """Publish a command to a device (QoS 1, not retained); raise translated errors."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise _too_large()
    if valid_device_id(device_id) is None:
        raise service_error("invalid_device_id", device=printable(device_id))
    topic = router.command_topic(device_id)
    if topic is None:
        raise service_error("commands_disabled")
    try:
        await client.publish(topic, payload, qos=1, retain=False)
    except MqttError as err:
        raise command_failed(device_id, err) from err


async def publish_quietly(client: MqttClient, topic: str, payload: bytes) -> None:
    """Publish (QoS 1, never retained); a failure is logged, not raised."""
    try:
        await client.publish(topic, payload, qos=1, retain=False)
    except MqttError as err:
        _LOGGER.warning("Could not publish the incident change on %s: %s", topic, err)
