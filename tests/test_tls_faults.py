"""TLS faults as the user meets them: the config flow's error, the entry's setup, reconnecting.

(a) the broker's certificate has expired, (b) our client certificate has expired,
(c) the broker's certificate is not signed by the CA the user gave, (d) no client
certificate for a listener that requires one, (e) a client certificate from another CA.
Retrying helps only where the broker's side can be fixed ((a), (c)); where only a new
client certificate helps, setup fails for good and says to reconfigure.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.iot_hub.broker.errors import setup_error
from custom_components.iot_hub.core.mqtt.backoff import Backoff
from custom_components.iot_hub.core.mqtt.errors import (
    CLIENT_CERT_REFUSALS,
    ConnectFailure,
    MqttConnectError,
    MqttError,
)

from . import broker as broker_module
from .broker import Mosquitto
from .config_flow_helpers import submit, suggested_values, tls_step
from .conftest import DOMAIN, broker_data
from .core.mqtt.test_tls_faults import max_attempts
from .helpers import setup_entry, wait_for_value

make_mosquitto = broker_module.make_mosquitto

# Past Home Assistant's longest wait between setup retries (10 min).
AFTER_ANY_RETRY = timedelta(minutes=11)


@dataclass(frozen=True, slots=True)
class Case:
    """One TLS fault: the broker, what the user gave, and what they are told."""

    expired_server_cert: bool = False
    mutual: bool = False
    wrong_ca: bool = False
    client: str | None = None  # "good", "expired" or "foreign" client certificate
    errors: dict[str, str] | None = None
    state: ConfigEntryState = ConfigEntryState.SETUP_ERROR

    def tls_input(self, broker: Mosquitto) -> dict[str, Any]:
        """What the TLS screen gets (and the entry stores) for this case."""
        pki = broker.pki
        cert, key = {
            None: (None, None),
            "good": (pki.client_cert_pem, pki.client_key_pem),
            "expired": (pki.expired_client_cert_pem, pki.expired_client_key_pem),
            "foreign": (pki.foreign_client_cert_pem, pki.foreign_client_key_pem),
        }[self.client]
        data = {
            "ca_pem": pki.wrong_ca_cert_pem if self.wrong_ca else pki.ca_cert_pem,
            "verify_ssl": True,
        }
        if cert is not None:
            data |= {"client_cert_pem": cert, "client_key_pem": key}
        return data

    def port(self, broker: Mosquitto) -> int:
        return broker.port_mtls if self.mutual else broker.port_tls


CASES = {
    "a-server-cert-expired": Case(
        expired_server_cert=True,
        errors={"base": "certificate_expired"},
        state=ConfigEntryState.SETUP_RETRY,
    ),
    "b-client-cert-expired": Case(
        mutual=True, client="expired", errors={"client_cert_pem": "client_cert_expired"}
    ),
    "c-wrong-ca": Case(
        wrong_ca=True,
        errors={"base": "invalid_certificate"},
        state=ConfigEntryState.SETUP_RETRY,
    ),
    "d-no-client-cert": Case(mutual=True, errors={"client_cert_pem": "client_cert_required"}),
    "e-client-cert-of-another-ca": Case(
        mutual=True, client="foreign", errors={"client_cert_pem": "client_cert_rejected"}
    ),
}
EACH_CASE = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


def tls_entry(hass: HomeAssistant, broker: Mosquitto, case: Case, **data: Any) -> MockConfigEntry:
    """An existing entry of this case (certificates as stored by an earlier flow)."""
    stored = {"client_cert_pem": None, "client_key_pem": None, **case.tls_input(broker)}
    if case.mutual:
        stored |= {"username": None, "password": None}  # the certificate is the identity
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{broker.host}:{case.port(broker)}",
        data=broker_data(broker, port=case.port(broker), tls="custom", **(stored | data)),
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    return entry


def reauth_flows(hass: HomeAssistant) -> list[str]:
    return [
        flow["context"]["source"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == "reauth"
    ]


# ------------------------------------------------------------------ config flow


@EACH_CASE
async def test_the_tls_screen_says_what_to_fix(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto], case: Case
) -> None:
    broker = make_mosquitto(expired_server_cert=case.expired_server_cert)
    result = await tls_step(hass, broker, case.port(broker), "custom")
    result = await submit(hass, result["flow_id"], case.tls_input(broker))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tls"
    assert result["errors"] == case.errors
    if case.expired_server_cert:
        return  # nothing on this screen fixes it: the broker's admin must renew it
    # Doing what the error says (the right CA, a good client certificate) is enough.
    fixed = Case(mutual=case.mutual, client="good" if case.mutual else None)
    result = await submit(hass, result["flow_id"], fixed.tls_input(broker))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


# ------------------------------------------------------------------ setup of an entry


@pytest.mark.parametrize(
    ("err", "kind", "key"),
    [
        (MqttError("broken"), ConfigEntryNotReady, "cannot_connect"),
        (MqttConnectError(ConnectFailure.TIMEOUT), ConfigEntryNotReady, "cannot_connect"),
        (MqttConnectError(ConnectFailure.INVALID_AUTH), ConfigEntryAuthFailed, "invalid_auth"),
        *(
            (MqttConnectError(failure), ConfigEntryError, failure.value)
            for failure in sorted(CLIENT_CERT_REFUSALS)  # one order for every xdist worker
        ),
        *(
            (MqttConnectError(failure), ConfigEntryNotReady, failure.value)
            for failure in (ConnectFailure.CERTIFICATE_EXPIRED, ConnectFailure.INVALID_CERTIFICATE)
        ),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value).split(":")[0],
)
def test_setup_error_mapping(err: MqttError, kind: type[Exception], key: str) -> None:
    """Reauth for credentials, no retry for a refused client certificate, else a retry."""
    error = setup_error(err, "broker:1")
    assert type(error) is kind
    assert error.translation_key == key
    assert error.translation_placeholders is not None
    assert error.translation_placeholders["broker"] == "broker:1"


@EACH_CASE
async def test_setup_retries_only_what_the_broker_can_fix(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto], case: Case
) -> None:
    """Retried with Home Assistant's backoff for (a), (c); failed for good for (b), (d), (e).

    Either way the message is the precise one, and no reauth starts: the user name and
    password are not what is wrong.
    """
    broker = make_mosquitto(expired_server_cert=case.expired_server_cert)
    entry = tls_entry(hass, broker, case)
    mark = broker.log_mark()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is case.state
    assert case.errors is not None
    assert entry.error_reason_translation_key == next(iter(case.errors.values()))
    assert entry.error_reason_translation_placeholders is not None
    assert entry.error_reason_translation_placeholders["broker"] == entry.title
    assert reauth_flows(hass) == []
    assert await broker.wait_for_connections(mark, 1) == 1

    async_fire_time_changed(hass, dt_util.utcnow() + AFTER_ANY_RETRY)
    # The retry runs as a background task.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is case.state
    retried = case.state is ConfigEntryState.SETUP_RETRY
    # One more connection for a retry (and only one: nothing loops); none otherwise.
    assert await broker.wait_for_connections(mark, 2 if retried else 1) == (2 if retried else 1)


async def test_renewed_server_certificate_ends_the_retries(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    """(a): the broker's admin renews the certificate; the entry loads at the next retry."""
    broker = make_mosquitto(expired_server_cert=True)
    entry = tls_entry(hass, broker, CASES["a-server-cert-expired"])
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    broker.stop()
    broker.expired_server_cert = False
    broker.restart()
    async_fire_time_changed(hass, dt_util.utcnow() + AFTER_ANY_RETRY)
    # The retry runs as a background task.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED


async def test_expired_client_certificate_is_renewed_by_reconfiguring(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    """(b): the setup error says to reconfigure; the TLS screen says which field; then it loads."""
    broker = make_mosquitto()
    pki = broker.pki
    entry = tls_entry(hass, broker, CASES["b-client-cert-expired"])
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(hass, result["flow_id"], suggested_values(result))
    assert result["step_id"] == "tls"
    # Sent back as shown: the stored (expired) certificate and key.
    result = await submit(hass, result["flow_id"], suggested_values(result))
    assert result["errors"] == {"client_cert_pem": "client_cert_expired"}
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


# ------------------------------------------------------------------ a running entry


@pytest.mark.slow
async def test_expired_server_certificate_while_running_is_retried_with_backoff(
    hass: HomeAssistant, make_mosquitto: Callable[..., Mosquitto]
) -> None:
    """(a) at runtime: the broker restarts with an expired certificate, later renewed.

    The connection shows as down, the entry keeps reconnecting at the pace of its
    backoff (counted in the broker's log: no tight loop), and is back once renewed.
    """
    broker = make_mosquitto()
    base, cap = 0.05, 0.4
    with patch(
        "custom_components.iot_hub.broker.runtime.Backoff", lambda: Backoff(base=base, cap=cap)
    ):
        entry = tls_entry(hass, broker, Case())
        await setup_entry(hass, entry)
    connection = f"binary_sensor.iot_hub_127_0_0_1_{broker.port_tls}_broker_connection"
    await wait_for_value(hass, connection, "on")

    broker.stop()
    await wait_for_value(hass, connection, "off")
    broker.expired_server_cert = True
    mark = broker.log_mark()
    broker.restart()
    loop = hass.loop
    await broker.wait_for_connections(mark, 1)
    first = loop.time()
    await broker.wait_for_connections(mark, 8)
    # 7 more attempts after the first: at least the 7 shortest delays of the backoff.
    assert max_attempts(loop.time() - first, base, cap) >= 8
    assert entry.state is ConfigEntryState.LOADED
    assert reauth_flows(hass) == []
    client = entry.runtime_data.client
    assert (client.stats.last_error or "").startswith("certificate_expired")

    broker.stop()
    broker.expired_server_cert = False
    broker.restart()
    await wait_for_value(hass, connection, "on")
