"""What a broker entry publishes: device commands, and incident changes for the users' system."""

import logging

from ..core.local.common import valid_device_id
from ..core.local.topics import TopicRouter
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import MqttError
from .errors import command_failed, service_error

_LOGGER = logging.getLogger(__name__)


async def send_command(
    client: MqttClient, router: TopicRouter, device_id: str, payload: bytes
) -> None:
    """Publish a command to a device (QoS 1, not retained); raise translated errors."""
    if valid_device_id(device_id) is None:
        raise service_error("invalid_device_id", device=device_id)
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
