"""A running entry whose client certificate the broker stops accepting: told at once.

The broker restarts revoking the certificate (a revocation list), requiring one the
entry does not have, or after the certificate has expired. The entry keeps reconnecting
with its backoff (the broker's administrator may undo a mistake) and a repair issue says
at the first refusal what to do; it goes once the entry connects again, and on unload.
One WARNING per cause, not one per attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import datetime as dt
import logging
from pathlib import Path
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.iot_hub.broker import cert_refused
from custom_components.iot_hub.broker.health_issues import UNREACHABLE_AFTER, unreachable_issue_id
from custom_components.iot_hub.core.mqtt.errors import CLIENT_CERT_REFUSALS

from .broker import Mosquitto
from .certs import Pki, issue_client_cert
from .config_flow_helpers import submit, suggested_values
from .core.mqtt.helpers import get, observed_backoff
from .helpers import wait_for_value
from .test_repairs import INTEGRATION_PAGE, issue_ids, issue_of, wait_for_issue
from .test_tls_faults import Case, reauth_flows, tls_entry
from .test_translations import LANGUAGES, load_translation, placeholders

# Refused attempts after the first during which nothing more is logged.
MORE_ATTEMPTS = 3


class StrictMosquitto(Mosquitto):
    """A test broker whose administrator may tighten the client-certificate checks.

    ``crl``: the mutual-TLS listener checks client certificates against this revocation
    list. ``require_on_tls``: the TLS listener (password users) requires a client
    certificate too. Both are read at every start: set them, ``stop`` and ``restart``.
    """

    def __init__(self, pki: Pki, directory: Path) -> None:
        super().__init__(pki, directory)
        self.crl: Path | None = None
        self.require_on_tls = False

    def _write_config(self) -> None:
        super()._write_config()
        text = self.config_path.read_text()
        if self.crl is not None:
            text = _insert_after(text, "require_certificate true", f"crlfile {self.crl}")
        if self.require_on_tls:
            text = _insert_after(
                text, f"listener {self.port_tls} {self.host}", "require_certificate true"
            )
        self.config_path.write_text(text)


def _insert_after(text: str, line: str, new: str) -> str:
    assert text.count(f"{line}\n") == 1, line
    return text.replace(f"{line}\n", f"{line}\n{new}\n")


def revocation_list(pki: Pki, directory: Path, revoked_pem: str) -> Path:
    """Write a CRL of the test CA revoking the certificate `revoked_pem`; return its path."""
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert_pem.encode())
    ca_key = serialization.load_pem_private_key(pki.ca_key_pem.encode(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    serial = x509.load_pem_x509_certificate(revoked_pem.encode()).serial_number
    now = dt.datetime.now(dt.UTC)
    revoked = (
        x509.RevokedCertificateBuilder()
        .serial_number(serial)
        .revocation_date(now - dt.timedelta(minutes=1))
        .build()
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=1))
        .add_revoked_certificate(revoked)
        .sign(ca_key, hashes.SHA256())
    )
    path = directory / "revoked.crl"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture
def broker(socket_enabled: None, pki: Pki, tmp_path: Path) -> Iterator[StrictMosquitto]:
    broker = StrictMosquitto(pki, tmp_path / "mosquitto")
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()


@pytest.fixture
def delays() -> Iterator[asyncio.Queue[None]]:
    """Entries set up meanwhile reconnect fast; an item for each reconnect delay drawn."""
    backoff, queue = observed_backoff()
    with patch("custom_components.iot_hub.broker.runtime.Backoff", lambda: backoff):
        yield queue


def issue_id(entry_id: str) -> str:
    return f"client_cert_refused_{entry_id}"


def refusal_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == cert_refused.__name__ and record.levelno == logging.WARNING
    ]


def assert_refusal_issue(
    hass: HomeAssistant, entry_id: str, key: str, broker: str
) -> ir.IssueEntry:
    issue = issue_of(hass, issue_id(entry_id))
    assert issue is not None
    assert issue.translation_key == key
    assert issue.translation_placeholders == {"broker": broker}
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.learn_more_url == INTEGRATION_PAGE
    return issue


async def refused_again(delays: asyncio.Queue[None], count: int = MORE_ATTEMPTS) -> None:
    """Return after `count` more attempts, each refused (the broker refuses them by now).

    Delays drawn before (while the broker was down, or after the first refusal) are
    dropped: each one counted is drawn after an attempt made from now on.
    """
    while not delays.empty():
        delays.get_nowait()
    for _ in range(count + 1):
        await get(delays)


# ------------------------------------------------------------------ the broker's side


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("revoked", "client_cert_refused_rejected"),
        ("required", "client_cert_refused_required"),
    ],
)
async def test_refused_certificate_raises_an_issue_until_the_broker_accepts_it(
    hass: HomeAssistant,
    broker: StrictMosquitto,
    delays: asyncio.Queue[None],
    caplog: pytest.LogCaptureFixture,
    case: str,
    key: str,
) -> None:
    """Revoked (mutual TLS) or newly required (TLS with a password): raised at the refusal.

    Reconnecting goes on with the backoff and logs one WARNING for the cause; once the
    broker's administrator undoes the change, the entry connects and the issue is gone.
    """
    pki = broker.pki
    revoked = case == "revoked"
    entry = tls_entry(hass, broker, Case(mutual=revoked, client="good" if revoked else None))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    address = entry.title
    connection = f"binary_sensor.iot_hub_{address.replace('.', '_').replace(':', '_')}"
    connection += "_broker_connection"
    await wait_for_value(hass, connection, "on")
    assert issue_of(hass, issue_id(entry.entry_id)) is None

    broker.stop()
    await wait_for_value(hass, connection, "off")
    if revoked:
        broker.crl = revocation_list(pki, broker.directory, pki.client_cert_pem)
    else:
        broker.require_on_tls = True
    broker.restart()
    await wait_for_issue(hass, issue_id(entry.entry_id), present=True)
    assert_refusal_issue(hass, entry.entry_id, key, address)
    client = entry.runtime_data.client
    failed = client.stats.failed_attempts
    await refused_again(delays)
    assert client.stats.failed_attempts >= failed + MORE_ATTEMPTS
    assert (client.stats.last_error or "").startswith(key.replace("_refused", ""))
    assert not client.connected
    assert entry.state is ConfigEntryState.LOADED
    assert reauth_flows(hass) == []
    warnings = refusal_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert address in warnings[0]
    # The broker answers (it refuses the certificate): never "unreachable", even a day later.
    async_fire_time_changed(hass, dt_util.utcnow() + UNREACHABLE_AFTER + dt.timedelta(minutes=1))
    assert issue_of(hass, unreachable_issue_id(entry.entry_id)) is None

    # The administrator undoes it: connected again, and the issue is gone with it.
    broker.stop()
    broker.crl = None
    broker.require_on_tls = False
    broker.restart()
    await wait_for_value(hass, connection, "on")
    assert issue_of(hass, issue_id(entry.entry_id)) is None
    assert client.connected


async def test_unloading_the_entry_removes_the_issue(
    hass: HomeAssistant, broker: StrictMosquitto, delays: asyncio.Queue[None]
) -> None:
    pki = broker.pki
    entry = tls_entry(hass, broker, Case(mutual=True, client="good"))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    broker.stop()
    broker.crl = revocation_list(pki, broker.directory, pki.client_cert_pem)
    broker.restart()
    await wait_for_issue(hass, issue_id(entry.entry_id), present=True)

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue_of(hass, issue_id(entry.entry_id)) is None
    # Nothing raises it again once unloaded.
    await hass.async_block_till_done()
    assert issue_id(entry.entry_id) not in issue_ids(hass)


# ------------------------------------------------------------------ our certificate expires


@pytest.mark.slow
async def test_certificate_expiring_while_running_raises_an_issue_until_reconfigured(
    hass: HomeAssistant,
    broker: StrictMosquitto,
    delays: asyncio.Queue[None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Our certificate expires while the broker is down: refused as expired when it is back.

    Reconfiguring the entry with a renewed certificate (the TLS screen) connects it, and
    the issue is gone.
    """
    pki = broker.pki
    cert, key = issue_client_cert(pki, dt.timedelta(seconds=2))
    expires = x509.load_pem_x509_certificate(cert.encode()).not_valid_after_utc
    entry = tls_entry(
        hass, broker, Case(mutual=True, client="good"), client_cert_pem=cert, client_key_pem=key
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.client.connected

    broker.kill()
    # Down until the certificate has expired (the broker's clock counts whole seconds):
    # each reconnect delay is an attempt refused at the TCP level.
    while dt.datetime.now(dt.UTC) <= expires + dt.timedelta(seconds=1):
        await get(delays)
    assert issue_of(hass, issue_id(entry.entry_id)) is None
    broker.restart()
    await wait_for_issue(hass, issue_id(entry.entry_id), present=True)
    assert_refusal_issue(hass, entry.entry_id, "client_cert_refused_expired", entry.title)
    await refused_again(delays)
    assert len(refusal_warnings(caplog)) == 1
    assert reauth_flows(hass) == []

    # The user reconfigures the entry with a renewed certificate.
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result["flow_id"], suggested_values(result))
    assert result["step_id"] == "tls"
    result = await submit(
        hass,
        result["flow_id"],
        {
            **suggested_values(result),
            "client_cert_pem": pki.client_cert_pem,
            "client_key_pem": pki.client_key_pem,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.client.connected
    assert issue_of(hass, issue_id(entry.entry_id)) is None


# ------------------------------------------------------------------ translations


def test_every_refusal_has_a_translated_issue() -> None:
    assert set(cert_refused.REFUSED_KEYS) == CLIENT_CERT_REFUSALS
    for language in LANGUAGES:
        issues = load_translation(language)["issues"]
        for key in cert_refused.REFUSED_KEYS.values():
            assert set(issues[key]) == {"title", "description"}, (language, key)
            for text in issues[key].values():
                assert placeholders(text) <= {"broker"}, (language, key)
            assert "{broker}" in issues[key]["description"], (language, key)
