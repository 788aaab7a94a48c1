"""How ThermoMaven sensors are shown: whole numbers without decimals, temperatures with a tenth."""

from collections.abc import Callable

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..helpers import wait_for_state
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from .test_setup import G4, started


async def test_batteries_and_wifi_signal_show_whole_numbers(
    hass: HomeAssistant,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    entity_registry: er.EntityRegistry,
) -> None:
    entry = await started(hass, make_account_entry, cloud)
    # The Wi-Fi signal is off by default: the user turns it on (then the entry reloads).
    rssi = f"sensor.{G4}_wi_fi_signal"
    entity_registry.async_update_entity(rssi, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await wait_for_state(hass, rssi, lambda s: s.state not in ("unknown", "unavailable"))

    def precision(entity_id: str) -> int | None:
        registered = entity_registry.async_get(entity_id)
        assert registered is not None, entity_id
        return registered.options.get("sensor", {}).get("suggested_display_precision")

    whole = [f"sensor.{G4}_battery", f"sensor.{G4}_probe_1_battery", rssi]
    assert {entity_id: precision(entity_id) for entity_id in whole} == dict.fromkeys(whole, 0)
    assert precision(f"sensor.{G4}_probe_1_temperature") == 1
