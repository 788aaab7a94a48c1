"""Subscribing a broker entry's topic families, and the repair issue for refused ones."""

import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN, ISSUE_SUBSCRIPTION_REFUSED
from ..core.local.topics import Family, TopicRouter
from ..core.mqtt.client import MqttClient
from ..core.mqtt.errors import MqttSubscriptionRefusedError

_LOGGER = logging.getLogger(__name__)


def subscription_refused_issue_id(entry_id: str) -> str:
    """Return the id of an entry's repair issue "the broker refused subscriptions"."""
    return f"{ISSUE_SUBSCRIPTION_REFUSED}_{entry_id}"


async def subscribe_all(client: MqttClient, topics: list[str], broker: str) -> list[str]:
    """Subscribe to every topic (QoS 1); return those the broker refused.

    A refusal (the broker's ACL) does not fail the setup: the connection works and
    so do the other families. Anything else (connection lost, timeout) is raised.
    """
    refused: list[str] = []
    for topic in topics:
        try:
            await client.subscribe(topic, 1)
        except MqttSubscriptionRefusedError as err:
            if not client.connected:
                raise
            _LOGGER.warning("%s refused the subscription to %s: %s", broker, topic, err)
            refused.append(topic)
    return refused


def families_of(bases: dict[Family, str], topics: list[str]) -> list[str]:
    """Return the topic families the topic filters belong to, in option order."""
    return [
        family.value
        for family, base in bases.items()
        if any(topic in TopicRouter({family: base}).subscriptions for topic in topics)
    ]


@callback
def report_refused(
    hass: HomeAssistant,
    entry_id: str,
    broker: str,
    bases: dict[Family, str],
    refused: list[str],
) -> None:
    """Raise the repair issue naming the refused topics, or delete it (none refused)."""
    issue_id = subscription_refused_issue_id(entry_id)
    if not refused:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_SUBSCRIPTION_REFUSED,
        translation_placeholders={
            "broker": broker,
            "topics": ", ".join(refused),
            "families": ", ".join(families_of(bases, refused)),
        },
    )
