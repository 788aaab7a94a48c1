"""The MQTT client certificate: renewed before it expires and when the broker refuses it."""

from collections.abc import Callable
from datetime import timedelta
import os
from pathlib import Path
import stat

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from ..helpers import wait_for_state, wait_for_value
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from ..thermomaven_cloud.devices import WT09_ID
from .test_diagnostics import CLOUD_CONNECTION
from .test_setup import G4, near, started


async def test_refused_certificate_is_renewed(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The broker drops and refuses our certificate: a new one is applied for, and used."""
    await started(hass, make_account_entry, cloud)
    assert len(cloud.certificates) == 1
    mark = cloud.mqtt_log_mark()
    await cloud.revoke_certificates()
    await cloud.wait_for_subscription(cloud.user_topic, since=mark)
    await wait_for_value(hass, CLOUD_CONNECTION, "on")
    assert len(cloud.certificates) == 2
    # Device topics are subscribed again with the new certificate, and reports flow.
    await cloud.wait_for_subscription(cloud.device(WT09_ID).topic, since=mark)
    cloud.probe(WT09_ID, "probe1").temperature = 1700
    await cloud.publish_status(WT09_ID)
    await wait_for_state(hass, f"sensor.{G4}_probe_1_temperature", near(76.67))


async def test_certificate_renewed_before_it_expires(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """A certificate valid for an hour is replaced at 80 % of its life, without an outage."""
    cloud.certificate_days = 1 / 24
    entry = await started(hass, make_account_entry, cloud)
    first = entry.runtime_data.access
    assert first is not None
    mark = cloud.mqtt_log_mark()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=50))
    await cloud.wait_for_subscription(cloud.user_topic, since=mark)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(cloud.certificates) == 2
    assert entry.runtime_data.access is not first
    renewed = entry.runtime_data.access
    assert renewed.settings.tls.client_cert_pem != first.settings.tls.client_cert_pem
    assert hass.states.get(CLOUD_CONNECTION).state == "on"


async def test_certificate_files_private_and_removed_with_the_entry(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
) -> None:
    """The key is written 0600 under the entry's storage folder and deleted with the entry."""
    entry = await started(hass, make_account_entry, cloud)
    folder = Path(hass.config.path(".storage", "iot_hub", entry.entry_id))
    keys = list(folder.rglob("*.key"))
    assert keys
    for key in keys:
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not folder.exists()
