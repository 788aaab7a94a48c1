"""TLS faults against a real Mosquitto: expired certificates, wrong CAs, refused client certs.

What the client reports for each (the config flow shows it, setup maps it), and that its
reconnect loop keeps to the backoff while the broker refuses the handshake: attempts are
counted over a bounded period, at the client and in the broker's log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import datetime as dt
from pathlib import Path
import socket
import ssl
import struct
import threading
from threading import Event

from cryptography import x509
import pytest

from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.connect import build_paho, lost_before_connack
from custom_components.iot_hub.core.mqtt.errors import ConnectFailure, MqttConnectError
from custom_components.iot_hub.core.mqtt.settings import BrokerSettings, TlsMode, TlsSettings
from custom_components.iot_hub.core.mqtt.tls import TlsAlerts, build_ssl_context

from ...broker import Mosquitto
from ...certs import Pki, issue_client_cert
from .helpers import TIMEOUT, MakeClient, connect_failure, get, settings_for, tls_settings

# Reconnect delays of these tests: 0.05 s doubling up to 0.4 s, never less than half of that.
BASE, CAP = 0.05, 0.4
# How long the reconnect attempts are counted while the broker refuses them.
WINDOW = 2.0


def max_attempts(window: float, base: float = BASE, cap: float = CAP) -> int:
    """The most attempts a backoff of `base`..`cap` allows within `window` seconds.

    The first attempt opens the window; each next one waits at least half its nominal
    delay (half-jitter), counted from the shortest delay for the upper bound.
    """
    count, elapsed = 1, 0.0
    while (elapsed := elapsed + min(cap, base * 2 ** (count - 1)) / 2) <= window:
        count += 1
    return count


def mtls_settings(
    broker: Mosquitto, cert: str | None, key: str | None, tls_dir: Path
) -> BrokerSettings:
    """Settings for the mutual-TLS listener (its identity is the certificate, no password)."""
    return settings_for(
        broker,
        port=broker.port_mtls,
        tls=tls_settings(broker, client_cert_pem=cert, client_key_pem=key),
        tls_dir=tls_dir,
        username=None,
        password=None,
    )


class Attempts:
    """Failed reconnect attempts as the client reports them, with their loop time."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[float, MqttConnectError]] = asyncio.Queue()

    def __call__(self, err: MqttConnectError) -> None:
        self.queue.put_nowait((asyncio.get_running_loop().time(), err))

    async def next(self) -> tuple[float, MqttConnectError]:
        return await get(self.queue)

    async def until(self, reason: ConnectFailure) -> float:
        """Return the time of the first failure for `reason` once the broker is back up.

        Attempts made while it was down (connection refused) are skipped; any other
        failure is the wrong answer.
        """
        while True:
            at, err = await self.next()
            if err.reason is not ConnectFailure.CANNOT_CONNECT:
                assert err.reason is reason, err
                return at


# ------------------------------------------------------------------ what each case is


@pytest.mark.parametrize("listener", ["tls", "mtls"])
async def test_expired_server_certificate_is_certificate_expired(
    make_mosquitto: Callable[..., Mosquitto],
    make_client: MakeClient,
    tmp_path: Path,
    listener: str,
) -> None:
    """(a) The broker serves a certificate that expired yesterday; our CA signed it."""
    broker = make_mosquitto(expired_server_cert=True)
    pki = broker.pki
    if listener == "tls":
        settings = settings_for(broker, port=broker.port_tls, tls=tls_settings(broker))
    else:
        settings = mtls_settings(broker, pki.client_cert_pem, pki.client_key_pem, tmp_path)
    client, recorder = make_client(settings)
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.CERTIFICATE_EXPIRED
    assert "certificate has expired" in err.detail
    assert recorder.changes.empty()


async def test_server_certificate_of_another_ca_is_not_called_expired(
    make_mosquitto: Callable[..., Mosquitto], make_client: MakeClient
) -> None:
    """(a) + (c): expired, but also not signed by the CA we trust: the CA is what to fix."""
    broker = make_mosquitto(expired_server_cert=True)
    tls = tls_settings(broker, ca_pem=broker.pki.wrong_ca_cert_pem)
    client, _ = make_client(settings_for(broker, port=broker.port_tls, tls=tls))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_CERTIFICATE


@pytest.mark.parametrize(
    ("material", "reason", "alert"),
    [
        ("expired", ConnectFailure.CLIENT_CERT_EXPIRED, "alert certificate expired"),
        ("foreign", ConnectFailure.CLIENT_CERT_REJECTED, "alert unknown ca"),
        ("none", ConnectFailure.CLIENT_CERT_REQUIRED, "alert certificate required"),
    ],
    ids=["expired", "foreign", "none"],
)
async def test_the_brokers_verdict_on_our_client_certificate(
    mosquitto: Mosquitto,
    make_client: MakeClient,
    tmp_path: Path,
    material: str,
    reason: ConnectFailure,
    alert: str,
) -> None:
    """(b), (d), (e) with TLS 1.3: the verdict is an alert after our side of the handshake.

    Expired, signed by another CA, or missing: the broker's alert names the reason.
    """
    pki = mosquitto.pki
    cert, key = {
        "expired": (pki.expired_client_cert_pem, pki.expired_client_key_pem),
        "foreign": (pki.foreign_client_cert_pem, pki.foreign_client_key_pem),
        "none": (None, None),
    }[material]
    client, recorder = make_client(mtls_settings(mosquitto, cert, key, tmp_path))
    err = await connect_failure(client)
    assert err.reason is reason
    assert alert in err.detail
    assert recorder.changes.empty()
    assert recorder.auth_failures.empty()


# ------------------------------------------------------- TLS 1.2: verdict in the handshake


def client_auth_context(pki: Pki) -> ssl.SSLContext:
    """A server context requiring a client certificate from the test CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    ctx.load_verify_locations(cadata=pki.ca_cert_pem)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


@contextlib.contextmanager
def refusing_server(ctx: ssl.SSLContext, *, reset: bool = False) -> Iterator[tuple[int, Event]]:
    """A TLS server handshaking one connection (refused: an alert), then closing it.

    Yields its port and an event set once the connection is closed; with `reset`,
    closed with a reset (SO_LINGER 0), as when the client's next record is unread.
    A thread, not asyncio's TLS server: that one closes without sending its alert.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False) as tls:
            tls.settimeout(TIMEOUT)
            with contextlib.suppress(OSError):
                tls.do_handshake()
            if reset:
                tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        closed.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), closed
    finally:
        listener.close()
        thread.join(TIMEOUT)


@pytest.mark.parametrize(
    ("material", "reason"),
    [
        ("expired", ConnectFailure.CLIENT_CERT_EXPIRED),
        ("foreign", ConnectFailure.CLIENT_CERT_REJECTED),
        # TLS 1.2 says "handshake failure", which also means no common cipher: not precise.
        ("none", ConnectFailure.TLS_ERROR),
    ],
    ids=["expired", "foreign", "none"],
)
async def test_tls12_verdict_in_the_handshake(
    socket_enabled: None,
    pki: Pki,
    make_client: MakeClient,
    tmp_path: Path,
    material: str,
    reason: ConnectFailure,
) -> None:
    cert, key = {
        "expired": (pki.expired_client_cert_pem, pki.expired_client_key_pem),
        "foreign": (pki.foreign_client_cert_pem, pki.foreign_client_key_pem),
        "none": (None, None),
    }[material]
    tls = TlsSettings(
        mode=TlsMode.CUSTOM_CA, ca_pem=pki.ca_cert_pem, client_cert_pem=cert, client_key_pem=key
    )
    ctx = client_auth_context(pki)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with refusing_server(ctx) as (port, _):
        settings = BrokerSettings(
            host="127.0.0.1", port=port, client_id="tls12", tls=tls, tls_dir=tmp_path
        )
        client, _ = make_client(settings)
        err = await connect_failure(client)
    assert err.reason is reason


# --------------------------------------- an alert that arrives with a reset, before CONNECT


def test_the_alert_is_read_after_a_write_the_reset_refused(pki: Pki, socket_enabled: None) -> None:
    """A broker quick to refuse resets the connection: the alert waits to be read.

    The server resets the connection right after its alert, as a broker does when
    our next record is still unread: our write fails, the alert is read then, and
    the failure can still name it.
    """
    ctx = build_ssl_context(TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem=pki.ca_cert_pem), None)
    alerts = TlsAlerts(ctx)
    with refusing_server(client_auth_context(pki), reset=True) as (port, closed):
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            assert closed.wait(TIMEOUT)
            # Writes succeed until the reset has come in: write until refused.
            with pytest.raises(ConnectionError):  # noqa: PT012
                for _ in range(10_000):
                    sock.send(b"\xc0\x00")  # PINGREQ
    assert alerts.error is not None
    assert alerts.error.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED"


@pytest.mark.parametrize(
    ("tls", "reason"),
    [
        (TlsSettings(), ConnectFailure.CANNOT_CONNECT),
        (TlsSettings(mode=TlsMode.SYSTEM_CA), ConnectFailure.TLS_ERROR),
    ],
    ids=["plain", "tls"],
)
def test_lost_before_connack_without_an_alert(tls: TlsSettings, reason: ConnectFailure) -> None:
    """No alert kept (none came, or no TLS): the connection was lost, that is all we know."""
    settings = BrokerSettings(host="127.0.0.1", port=1, client_id="x", tls=tls)
    err = lost_before_connack(build_paho(settings, 1.0), settings)
    assert err.reason is reason
    assert err.detail == "connection lost before CONNACK"


# ------------------------------------------------------------ reconnecting: the backoff


@pytest.mark.slow
async def test_reconnects_back_off_while_the_server_certificate_is_expired(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    """(a) at runtime: the broker comes back with an expired certificate, then a renewed one.

    The client keeps trying (its admin may renew the certificate), each attempt one
    connection at the broker and paced by the backoff: no tight loop.
    """
    attempts = Attempts()
    settings = settings_for(mosquitto, port=mosquitto.port_tls, tls=tls_settings(mosquitto))
    client, recorder = make_client(
        settings, backoff=Backoff(base=BASE, cap=CAP), on_attempt_failed=attempts
    )
    await client.connect()
    assert await recorder.change() is True

    mosquitto.stop()
    assert await recorder.change() is False
    mosquitto.expired_server_cert = True
    mark = mosquitto.log_mark()
    mosquitto.restart()
    start = await attempts.until(ConnectFailure.CERTIFICATE_EXPIRED)
    counted, now = 1, start
    while now - start < WINDOW:
        now, err = await attempts.next()
        assert err.reason is ConnectFailure.CERTIFICATE_EXPIRED
        counted += 1
    # Counted over WINDOW s and a little more (until the first attempt after it).
    assert 3 <= counted <= max_attempts(now - start)
    # Each attempt is one connection at the broker (and one more may be under way).
    assert await mosquitto.wait_for_connections(mark, counted) <= counted + 1
    assert client.stats.last_error is not None
    assert client.stats.last_error.startswith(ConnectFailure.CERTIFICATE_EXPIRED)
    assert recorder.auth_failures.empty()

    # The broker's admin renews the certificate: the client is back by itself.
    mosquitto.stop()
    mosquitto.expired_server_cert = False
    mosquitto.restart()
    assert await recorder.change() is True
    assert client.connected


@pytest.mark.slow
async def test_client_certificate_expiring_while_disconnected(
    mosquitto: Mosquitto, make_client: MakeClient, tmp_path: Path
) -> None:
    """(b) at runtime: our certificate expires while the broker is down.

    When the broker is back it refuses the certificate at every attempt, each one
    reported as expired (the owner may renew it, or ask the user) and paced by the
    backoff; the client does not treat it as refused credentials.
    """
    cert, key = issue_client_cert(mosquitto.pki, dt.timedelta(seconds=2))
    expires = x509.load_pem_x509_certificate(cert.encode()).not_valid_after_utc
    attempts = Attempts()
    client, recorder = make_client(
        mtls_settings(mosquitto, cert, key, tmp_path),
        backoff=Backoff(base=BASE, cap=CAP),
        on_attempt_failed=attempts,
    )
    await client.connect()
    assert await recorder.change() is True

    mosquitto.kill()
    assert await recorder.change() is False
    # Down until the certificate has expired (the broker's clock counts whole seconds).
    while dt.datetime.now(dt.UTC) <= expires + dt.timedelta(seconds=1):
        _, err = await attempts.next()
        assert err.reason is ConnectFailure.CANNOT_CONNECT
    mark = mosquitto.log_mark()
    mosquitto.restart()
    start = await attempts.until(ConnectFailure.CLIENT_CERT_EXPIRED)
    counted, now = 1, start
    while now - start < WINDOW / 2:
        now, err = await attempts.next()
        assert err.reason is ConnectFailure.CLIENT_CERT_EXPIRED
        counted += 1
    assert 2 <= counted <= max_attempts(now - start)
    assert await mosquitto.wait_for_connections(mark, counted) <= counted + 1
    assert not client.connected
    assert recorder.auth_failures.empty()
