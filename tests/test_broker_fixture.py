"""Prove the Mosquitto fixture's listeners behave, using only the mosquitto CLIs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import socket

import pytest

from . import broker as broker_module
from .broker import BrokerStartError, Mosquitto
from .certs import Pki
from .helpers import (
    CLI_TIMEOUT,  # noqa: F401  (test_simulator.py imports the CLI helpers from here)
    Result,
    creds,
    live_subscriber,
    run,
    wait_for_log,
)


def pub(broker: Mosquitto, port: int, *extra: str, topic: str = "test/pub") -> list[str]:
    return ["mosquitto_pub", "-h", broker.host, "-p", str(port), "-t", topic, "-m", "x", *extra]


def tls(path: Path) -> list[str]:
    return ["--cafile", str(path)]


async def receive_one(broker: Mosquitto, port: int, topic: str, *extra: str) -> Result:
    """Subscribe with ``mosquitto_sub -C 1 -W 5`` and return what it printed."""
    return await run(
        "mosquitto_sub",
        *["-h", broker.host, "-p", str(port), "-t", topic, "-C", "1", "-W", "5"],
        *extra,
    )


async def test_password_listener_accepts_credentials(mosquitto: Mosquitto) -> None:
    await mosquitto.publish("test/retained", "hello", retain=True)

    result = await receive_one(
        mosquitto, mosquitto.port_password, "test/retained", *creds(mosquitto)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"


@pytest.mark.parametrize("payload", [b"\x00\xffbinary\n", b""], ids=["binary", "empty"])
async def test_publish_delivers_bytes_live(mosquitto: Mosquitto, payload: bytes) -> None:
    async with live_subscriber(mosquitto, "test/bytes") as stdout:
        await mosquitto.publish("test/bytes", payload, qos=0)
        output = (await stdout.read()).decode()

    assert output == payload.hex() + "\n"


@pytest.mark.parametrize(
    "auth",
    [pytest.param(["-u", "iot", "-P", "wrong"], id="wrong-password"), pytest.param([], id="anon")],
)
async def test_password_listener_refuses(mosquitto: Mosquitto, auth: list[str]) -> None:
    result = await run(*pub(mosquitto, mosquitto.port_password, *auth))

    assert result.returncode != 0
    assert "not authorised" in result.stderr


async def test_tls_listener_accepts_test_ca(mosquitto: Mosquitto) -> None:
    await mosquitto.publish("test/tls", "over tls", retain=True)

    result = await receive_one(
        mosquitto, mosquitto.port_tls, "test/tls", *creds(mosquitto), *tls(mosquitto.pki.ca_cert)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "over tls\n"


async def test_tls_listener_rejected_with_wrong_ca(mosquitto: Mosquitto) -> None:
    result = await run(
        *pub(mosquitto, mosquitto.port_tls, *creds(mosquitto), *tls(mosquitto.pki.wrong_ca_cert))
    )

    assert result.returncode != 0
    # mosquitto_pub only says "A TLS error occurred"; the broker log names the cause.
    assert "TLS error" in result.stderr
    await wait_for_log(mosquitto, "alert unknown ca")


async def test_tls_listener_still_requires_password(mosquitto: Mosquitto) -> None:
    result = await run(*pub(mosquitto, mosquitto.port_tls, *tls(mosquitto.pki.ca_cert)))

    assert result.returncode != 0
    assert "not authorised" in result.stderr


async def test_mtls_listener_accepts_client_certificate(mosquitto: Mosquitto) -> None:
    certs = mosquitto.pki
    client = ["--cert", str(certs.client_cert), "--key", str(certs.client_key)]
    await mosquitto.publish("test/mtls", "mutual", retain=True)

    result = await receive_one(
        mosquitto, mosquitto.port_mtls, "test/mtls", *tls(certs.ca_cert), *client
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "mutual\n"
    # use_identity_as_username: the certificate's CN became the username.
    assert f"u'{certs.client_cn}'" in mosquitto.log()


async def test_mtls_listener_rejects_missing_client_certificate(mosquitto: Mosquitto) -> None:
    result = await run(
        *pub(mosquitto, mosquitto.port_mtls, *creds(mosquitto), *tls(mosquitto.pki.ca_cert))
    )

    assert result.returncode != 0
    await wait_for_log(mosquitto, "peer did not return a certificate")


async def test_kill_and_restart_keep_ports(mosquitto: Mosquitto) -> None:
    ports = (mosquitto.port_password, mosquitto.port_tls, mosquitto.port_mtls, mosquitto.port_ws)
    await mosquitto.publish("test/up", "1")

    mosquitto.kill()
    assert not mosquitto.running
    with pytest.raises(AssertionError, match="exited with"):
        await mosquitto.publish("test/up", "2")

    mosquitto.restart()
    assert (
        mosquitto.port_password,
        mosquitto.port_tls,
        mosquitto.port_mtls,
        mosquitto.port_ws,
    ) == ports
    await mosquitto.publish("test/up", "3", retain=True)
    result = await receive_one(mosquitto, mosquitto.port_password, "test/up", *creds(mosquitto))
    assert result.stdout == "3\n"


async def test_stop_then_restart(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    assert not mosquitto.running
    assert "terminating" in mosquitto.log()

    mosquitto.restart()
    await mosquitto.publish("test/again", "ok")


@pytest.fixture
def occupied_port(socket_enabled: None) -> Iterator[int]:
    """A loopback port held by a listening socket for the duration of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("index", [0, 3], ids=["tcp-port", "websocket-port"])
def test_start_retries_on_port_clash(
    pki: Pki, tmp_path: Path, occupied_port: int, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_free_ports = broker_module._free_ports
    calls = 0

    def first_one_taken(count: int) -> list[int]:
        nonlocal calls
        calls += 1
        ports = real_free_ports(count)
        if calls == 1:
            ports[index] = occupied_port
        return ports

    monkeypatch.setattr(broker_module, "_free_ports", first_one_taken)
    broker = Mosquitto(pki, tmp_path)
    try:
        broker.start()
        assert broker.running
        assert calls == 2
        assert occupied_port not in (broker.port_password, broker.port_ws)
    finally:
        broker.kill()


def test_start_gives_up_with_log(
    pki: Pki, tmp_path: Path, occupied_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        broker_module, "_free_ports", lambda count: [occupied_port] + [0] * (count - 1)
    )
    broker = Mosquitto(pki, tmp_path)
    try:
        with pytest.raises(BrokerStartError, match=r"5 attempt\(s\)(.|\n)*Address already in use"):
            broker.start()
        assert not broker.running
    finally:
        broker.kill()
