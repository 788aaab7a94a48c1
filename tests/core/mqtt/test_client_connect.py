"""Why a first connection fails: refused credentials, dead or broken servers, timeouts."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest

from custom_components.iot_hub.core.mqtt.errors import ConnectFailure
from custom_components.iot_hub.core.mqtt.settings import (
    Protocol,
    TlsMode,
    TlsSettings,
    Transport,
)

from ...broker import Mosquitto
from .helpers import (
    CONNACK,
    PROTOCOLS,
    Handler,
    MakeClient,
    closed_port,
    connack,
    connect_failure,
    fake_server,
    local,
    settings_for,
    silent,
)


@PROTOCOLS
async def test_wrong_password_is_invalid_auth(
    mosquitto: Mosquitto, make_client: MakeClient, protocol: Protocol
) -> None:
    client, recorder = make_client(settings_for(mosquitto, password="wrong", protocol=protocol))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_AUTH
    assert err.is_auth
    assert recorder.changes.empty()


async def test_anonymous_is_invalid_auth(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    client, _ = make_client(settings_for(mosquitto, username=None, password=None))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_AUTH


async def test_closed_port_cannot_connect(socket_enabled: None, make_client: MakeClient) -> None:
    client, _ = make_client(local(closed_port()))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.CANNOT_CONNECT
    assert not err.is_auth


async def test_websockets_to_a_plain_mqtt_listener_cannot_connect(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    client, _ = make_client(settings_for(mosquitto, transport=Transport.WEBSOCKETS))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.CANNOT_CONNECT


async def test_silent_server_times_out(socket_enabled: None, make_client: MakeClient) -> None:
    async with fake_server(silent) as port:
        client, _ = make_client(local(port), connect_timeout=0.5)
        err = await connect_failure(client)
        assert err.reason is ConnectFailure.TIMEOUT


@pytest.mark.parametrize(
    "overrides",
    [{"tls": TlsSettings(mode=TlsMode.SYSTEM_CA)}, {"transport": Transport.WEBSOCKETS}],
    ids=["tls", "websockets"],
)
async def test_silent_server_times_out_in_the_handshake(
    socket_enabled: None, make_client: MakeClient, overrides: dict[str, Any]
) -> None:
    """The TLS/websocket handshake is bounded by connect_timeout, not by keepalive."""
    async with fake_server(silent) as port:
        client, _ = make_client(local(port, keepalive=10, **overrides), connect_timeout=0.5)
        async with asyncio.timeout(5):
            err = await connect_failure(client)
        assert err.reason is ConnectFailure.TIMEOUT


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept and close at once."""


async def test_hang_up_before_connack_cannot_connect(
    socket_enabled: None, make_client: MakeClient
) -> None:
    async with fake_server(hang_up) as port:
        client, _ = make_client(local(port))
        err = await connect_failure(client)
        assert err.reason is ConnectFailure.CANNOT_CONNECT


@pytest.mark.parametrize(
    ("return_code", "reason"),
    [
        (2, ConnectFailure.CANNOT_CONNECT),  # identifier rejected
        (3, ConnectFailure.CANNOT_CONNECT),  # server unavailable
        (4, ConnectFailure.INVALID_AUTH),  # bad user name or password
        (5, ConnectFailure.INVALID_AUTH),  # not authorized
    ],
)
async def test_connack_refusals(
    socket_enabled: None, make_client: MakeClient, return_code: int, reason: ConnectFailure
) -> None:
    async with fake_server(connack(return_code)) as port:
        client, _ = make_client(local(port))
        err = await connect_failure(client)
        assert err.reason is reason


async def test_a_connection_broken_with_its_connack_is_no_connection(
    socket_enabled: None, make_client: MakeClient
) -> None:
    """CONNACK and a protocol error in one segment: connect() fails, nothing "connected"."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(CONNACK + bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
        await writer.drain()
        await silent(reader, writer)

    async with fake_server(handler) as port:
        client, recorder = make_client(local(port))
        err = await connect_failure(client)
        assert err.reason is ConnectFailure.CANNOT_CONNECT
        assert recorder.changes.empty()


async def reset_on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer the connection with a TCP reset (SO_LINGER 0, then close)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer a TLS ClientHello with plain text."""
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    await writer.drain()
    await silent(reader, writer)


@pytest.mark.parametrize(
    ("handler", "tls", "reason"),
    [
        (reset_on_accept, True, ConnectFailure.TLS_ERROR),
        (reset_on_accept, False, ConnectFailure.CANNOT_CONNECT),
        (not_tls, True, ConnectFailure.TLS_ERROR),
    ],
    ids=["tls-reset", "tcp-reset", "tls-garbage"],
)
async def test_broken_servers(
    socket_enabled: None,
    make_client: MakeClient,
    handler: Handler,
    tls: bool,
    reason: ConnectFailure,
) -> None:
    async with fake_server(handler) as port:
        mode = TlsMode.SYSTEM_CA if tls else TlsMode.OFF
        client, _ = make_client(local(port, tls=TlsSettings(mode=mode)))
        err = await connect_failure(client)
        assert err.reason is reason
