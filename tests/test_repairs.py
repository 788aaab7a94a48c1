"""Repair issues of a broker entry: certificates near their end, a broker unreachable a day."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .broker import Mosquitto
from .config_flow_helpers import broker_form, submit
from .core.mqtt.test_certificates import make_certificate
from .helpers import DOMAIN, TIMEOUT, broker_connection, setup_entry, wait_for_value

INTEGRATION_PAGE = "homeassistant://config/integrations/integration/iot_hub"


def issue_of(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


def issue_ids(hass: HomeAssistant) -> set[str]:
    """Ids of the integration's issues."""
    return {issue_id for domain, issue_id in ir.async_get(hass).issues if domain == DOMAIN}


async def wait_for_issue(hass: HomeAssistant, issue_id: str, *, present: bool) -> None:
    """Return once the issue exists (or is gone), now or after a registry update."""
    if (issue_of(hass, issue_id) is not None) is present:
        return
    done: asyncio.Future[None] = hass.loop.create_future()

    @callback
    def updated(event: Event[Any]) -> None:
        if (issue_of(hass, issue_id) is not None) is present and not done.done():
            done.set_result(None)

    unsub = hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, updated)
    try:
        async with asyncio.timeout(TIMEOUT):
            await done
    except TimeoutError:
        raise AssertionError(f"issue {issue_id} never {'raised' if present else 'gone'}") from None
    finally:
        unsub()


async def fire_in(hass: HomeAssistant, delta: timedelta) -> None:
    """Let `delta` pass for Home Assistant's timers (its clock does not move)."""
    async_fire_time_changed(hass, dt_util.utcnow() + delta)
    await hass.async_block_till_done()


async def retry_after(hass: HomeAssistant, entry: MockConfigEntry, delta: timedelta) -> None:
    """Let `delta` pass (more than the pending retry's delay) and wait for the retry's end."""
    done: asyncio.Future[None] = hass.loop.create_future()

    @callback
    def changed() -> None:
        if entry.state is not ConfigEntryState.SETUP_IN_PROGRESS and not done.done():
            done.set_result(None)

    unsub = entry.async_on_state_change(changed)
    try:
        async_fire_time_changed(hass, dt_util.utcnow() + delta)
        async with asyncio.timeout(TIMEOUT):
            await done
    finally:
        unsub()
    await hass.async_block_till_done()


def moment(when: datetime) -> str:
    """A moment as the issues show it: local time, to the minute."""
    return dt_util.as_local(when).strftime("%Y-%m-%d %H:%M")


def ends_in(delta: timedelta) -> datetime:
    """Now plus `delta`, in whole seconds (as X.509 keeps it)."""
    return (dt_util.utcnow() + delta).replace(microsecond=0)


def tls_entry(
    make_entry: Callable[..., MockConfigEntry], broker: Mosquitto, **data: Any
) -> MockConfigEntry:
    """An entry on the TLS listener, not verifying the broker (it does not ask for ours)."""
    return make_entry(**{"port": broker.port_tls, "tls": "system", "verify_ssl": False, **data})


# ---------------------------------------------------------------- certificates


async def test_client_certificate_near_its_end_warns_until_replaced(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    not_after = ends_in(timedelta(days=10, hours=1))
    cert, key = make_certificate(not_after, common_name="sensors-hub")
    entry = tls_entry(make_entry, mosquitto, client_cert_pem=cert, client_key_pem=key)
    await setup_entry(hass, entry)

    issue_id = f"client_certificate_expiring_{entry.entry_id}"
    issue = issue_of(hass, issue_id)
    assert issue is not None
    assert issue.translation_key == "client_certificate_expiring"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert not issue.is_fixable
    assert issue.learn_more_url == INTEGRATION_PAGE
    assert issue.translation_placeholders == {
        "broker": f"{mosquitto.host}:{mosquitto.port_tls}",
        "certificate": "sensors-hub",
        "expires": moment(not_after),
        "days": "10",
    }
    assert issue_ids(hass) == {issue_id}

    # The user reconfigures the entry with a renewed certificate: the issue goes.
    renewed, renewed_key = make_certificate(ends_in(timedelta(days=365)), common_name="renewed")
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass, result["flow_id"], broker_form(mosquitto, port=mosquitto.port_tls, tls="system")
    )
    assert result["step_id"] == "tls"
    result = await submit(
        hass,
        result["flow_id"],
        {"verify_ssl": False, "client_cert_pem": renewed, "client_key_pem": renewed_key},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.client.connected
    assert issue_ids(hass) == set()


async def test_expired_client_certificate_and_ending_ca_raise_one_issue_each(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    expired_on = ends_in(-timedelta(days=2))
    cert, key = make_certificate(expired_on, common_name="old-client")
    ca_ends = ends_in(timedelta(days=3, hours=1))
    ca, _ = make_certificate(ca_ends, common_name="Home CA")
    entry = tls_entry(
        make_entry, mosquitto, tls="custom", ca_pem=ca, client_cert_pem=cert, client_key_pem=key
    )
    await setup_entry(hass, entry)
    broker = f"{mosquitto.host}:{mosquitto.port_tls}"

    client = issue_of(hass, f"client_certificate_expiring_{entry.entry_id}")
    assert client is not None
    assert client.translation_key == "client_certificate_expired"
    assert client.severity is ir.IssueSeverity.ERROR
    assert client.translation_placeholders == {
        "broker": broker,
        "certificate": "old-client",
        "expires": moment(expired_on),
    }
    ca_issue = issue_of(hass, f"ca_certificate_expiring_{entry.entry_id}")
    assert ca_issue is not None
    assert ca_issue.translation_key == "ca_certificate_expiring"
    assert ca_issue.severity is ir.IssueSeverity.WARNING
    assert ca_issue.translation_placeholders == {
        "broker": broker,
        "certificate": "Home CA",
        "expires": moment(ca_ends),
        "days": "3",
    }

    # Unloaded (or removed): the issues no longer apply.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue_ids(hass) == set()
    # Nothing checks them any more.
    await fire_in(hass, timedelta(days=1, minutes=1))
    assert issue_ids(hass) == set()


async def test_certificates_not_used_are_not_checked(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    ending, key = make_certificate(ends_in(timedelta(days=1)))
    # TLS off: neither is used. TLS with the system's CAs: the custom CA is not.
    plain = make_entry(client_cert_pem=ending, client_key_pem=key, ca_pem=ending)
    await setup_entry(hass, plain)
    system = tls_entry(make_entry, mosquitto, ca_pem=ending, client_id="iot_hub-system")
    await setup_entry(hass, system)
    assert issue_ids(hass) == set()


async def test_certificates_are_checked_every_day(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    not_after = ends_in(timedelta(days=30, hours=12))
    cert, key = make_certificate(not_after)
    entry = tls_entry(make_entry, mosquitto, client_cert_pem=cert, client_key_pem=key)
    await setup_entry(hass, entry)
    issue_id = f"client_certificate_expiring_{entry.entry_id}"
    assert issue_of(hass, issue_id) is None

    freezer.tick(timedelta(days=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_of(hass, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["days"] == "29"

    freezer.tick(timedelta(days=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = issue_of(hass, issue_id)
    assert issue is not None
    assert issue.translation_key == "client_certificate_expired"
    assert issue.severity is ir.IssueSeverity.ERROR


# ---------------------------------------------------------------- broker unreachable


async def test_connection_lost_for_a_day_raises_an_error_until_reconnected(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    connection = broker_connection(mosquitto)
    issue_id = f"broker_unreachable_{entry.entry_id}"

    before = dt_util.utcnow()
    mosquitto.kill()
    await wait_for_value(hass, connection, "off")
    after = dt_util.utcnow()
    await fire_in(hass, timedelta(hours=23, minutes=59))
    assert issue_of(hass, issue_id) is None

    await fire_in(hass, timedelta(days=1, seconds=1))
    issue = issue_of(hass, issue_id)
    assert issue is not None
    assert issue.translation_key == "broker_unreachable"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.learn_more_url == INTEGRATION_PAGE
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["broker"] == f"127.0.0.1:{mosquitto.port_password}"
    assert issue.translation_placeholders["since"] in {moment(before), moment(after)}

    # The broker is back: the client reconnects by itself and the issue goes.
    mosquitto.restart()
    await wait_for_issue(hass, issue_id, present=False)
    await wait_for_value(hass, connection, "on")


async def test_unloading_a_disconnected_entry_ends_the_count(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    mosquitto.kill()
    await wait_for_value(hass, broker_connection(mosquitto), "off")
    await fire_in(hass, timedelta(days=1, seconds=1))
    assert issue_ids(hass) == {f"broker_unreachable_{entry.entry_id}"}
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert issue_ids(hass) == set()
    await fire_in(hass, timedelta(days=2))
    assert issue_ids(hass) == set()


async def test_setup_retried_for_a_day_raises_the_error_from_the_first_attempt(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    entry = make_entry()
    issue_id = f"broker_unreachable_{entry.entry_id}"
    mosquitto.stop()
    first = dt_util.utcnow()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY

    # Each retry is a new attempt, with a new runtime: the day counts from the first.
    freezer.tick(timedelta(hours=23))
    await retry_after(hass, entry, timedelta(0))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_of(hass, issue_id) is None
    freezer.tick(timedelta(hours=1, seconds=1))
    await retry_after(hass, entry, timedelta(0))
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = issue_of(hass, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {
        "broker": f"127.0.0.1:{mosquitto.port_password}",
        "since": moment(first),
    }

    # The broker is back: the next retry loads the entry and the issue goes.
    mosquitto.restart()
    freezer.tick(timedelta(minutes=11))
    await retry_after(hass, entry, timedelta(0))
    assert entry.state is ConfigEntryState.LOADED
    assert issue_of(hass, issue_id) is None


async def test_removing_an_entry_being_retried_deletes_its_issues(
    hass: HomeAssistant, mosquitto: Mosquitto, make_entry: Callable[..., MockConfigEntry]
) -> None:
    expired, key = make_certificate(ends_in(-timedelta(days=1)))
    entry = tls_entry(make_entry, mosquitto, client_cert_pem=expired, client_key_pem=key)
    mosquitto.stop()
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    await retry_after(hass, entry, timedelta(days=1, seconds=1))
    assert issue_ids(hass) == {
        f"client_certificate_expiring_{entry.entry_id}",
        f"broker_unreachable_{entry.entry_id}",
    }
    # Whoever else follows the entry's state still hears of the unload.
    states: list[ConfigEntryState] = []
    entry.async_on_state_change(lambda: states.append(entry.state))
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_ids(hass) == set()
    assert states == [ConfigEntryState.NOT_LOADED]
    await fire_in(hass, timedelta(days=2))
    assert issue_ids(hass) == set()


async def test_a_broker_refusing_the_credentials_is_not_unreachable(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> None:
    entry = make_entry(password="wrong")
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    await fire_in(hass, timedelta(days=1, seconds=1))
    assert issue_ids(hass) == set()
