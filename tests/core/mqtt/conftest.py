"""Fixtures of the MqttClient tests: recording clients, brokers with options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from custom_components.iot_hub.core.mqtt.client import MqttClient
from custom_components.iot_hub.core.mqtt.settings import BrokerSettings

from ... import broker
from .helpers import MakeClient, Recorder

# Brokers with options (``acl=...``), next to the plain ``mosquitto`` fixture.
make_mosquitto = broker.make_mosquitto


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Create clients that record their callbacks; all are closed after the test."""
    clients: list[MqttClient] = []

    def factory(
        settings: BrokerSettings,
        *,
        on_message: Callable[[str, bytes, int, bool], None] | None = None,
        **kwargs: Any,
    ) -> tuple[MqttClient, Recorder]:
        recorder = Recorder(asyncio.Queue(), asyncio.Queue(), asyncio.Queue())
        client = MqttClient(
            settings,
            on_message=on_message or recorder.on_message,
            on_connection_change=recorder.changes.put_nowait,
            on_auth_failed=recorder.auth_failures.put_nowait,
            **kwargs,
        )
        clients.append(client)
        return client, recorder

    try:
        yield factory
    finally:
        for client in clients:
            await client.close()
