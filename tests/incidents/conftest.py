"""What the incident tests share: a real MQTT observer of what IoT Hub publishes, rule edits."""

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import orjson
import pytest

from custom_components.iot_hub.core.mqtt.client import MqttClient
from custom_components.iot_hub.core.mqtt.settings import BrokerSettings

from ..broker import Mosquitto

TIMEOUT = 15.0


@dataclass
class Observer:
    """Messages published on the broker on the topics watched, in order."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, topic: str) -> list[dict[str, Any]]:
        """Payloads received on `topic`."""
        return [payload for seen, payload in self.messages if seen == topic]

    async def wait(self, predicate: Callable[[Observer], bool]) -> None:
        """Return once `predicate` holds."""
        async with asyncio.timeout(TIMEOUT):
            while not predicate(self):
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def observer(mosquitto: Mosquitto) -> AsyncIterator[Observer]:
    """A second real MQTT client watching `dht11/incidents` and `dht11/alerts`."""
    seen = Observer()

    def on_message(topic: str, payload: bytes, qos: int, retain: bool) -> None:
        assert not retain, f"{topic} was published retained"
        seen.messages.append((topic, orjson.loads(payload)))
        seen.arrived.set()

    client = MqttClient(
        BrokerSettings(
            host=mosquitto.host,
            port=mosquitto.port_password,
            client_id="incident-observer",
            username=mosquitto.username,
            password=mosquitto.password,
            clean_session=True,
        ),
        on_message=on_message,
    )
    await client.connect()
    await client.subscribe("dht11/incidents", 1)
    await client.subscribe("dht11/alerts", 1)
    try:
        yield seen
    finally:
        with contextlib.suppress(Exception):
            await client.close()


async def edit_rule(
    hass: HomeAssistant, entry: ConfigEntry[Any], metric: str, **fields: Any
) -> None:
    """Edit the entry's rule of `metric` through its reconfigure form (as a user would)."""
    subentry = next(sub for sub in entry.subentries.values() if sub.data.get("metric") == metric)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "rule"),
        context={"source": "reconfigure", "subentry_id": subentry.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    values = {
        key: value
        for key, value in subentry.data.items()
        if key in ("metric", "hysteresis", "min_duration") or key.endswith(("_min", "_max"))
    }
    values = {key: value for key, value in {**values, **fields}.items() if value is not None}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], values)
    assert result["type"] is FlowResultType.ABORT, result
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
