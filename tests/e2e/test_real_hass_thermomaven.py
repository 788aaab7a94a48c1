"""End to end: a ThermoMaven account in a real Home Assistant, against the fake cloud.

The fake cloud of tests/thermomaven_cloud (signed HTTPS API, mutual-TLS MQTT) runs in the test
process; the ``hass`` process finds it through the test-only ``iot_hub_e2e_cloud`` component
(the documented ``ENDPOINTS_OVERRIDE``, as the in-process tests set it). Everything else goes
through the outside: the config flow and the climate action over REST, states over REST, the
thermometer's reports published by the cloud, and home-assistant.log at the end.
"""

from collections.abc import Callable
from typing import Any

import pytest

from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from .conftest import Stack
from .harness import DOMAIN, Extra
from .thermomaven import (
    ACCOUNT,
    G4,
    G4_ID,
    Account,
    CloudThread,
    add_account_through_flow,
    f_to_c,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PROBE = f"{G4}_probe_1"
CLIMATE = f"climate.{PROBE}"
# Probe 1 of the Smoker G4 cooks a brisket towards 203 °F (95 °C); the account is in °F and
# Home Assistant in °C (onboarded in the UK): every value below went through a conversion.
TARGET_C = f_to_c(2030)
HOTTER = 1652  # 165.2 °F = 74.0 °C, reported during the test
NEW_TARGET_C = 90  # = 194 °F: the command carries whole °F in tenths


@pytest.fixture
def hass_extras(thermomaven: CloudThread) -> list[Extra]:
    """The hass process talks to the fake cloud."""
    return [thermomaven.override()]


def near(value: float) -> Callable[[dict[str, Any]], bool]:
    """A numeric state within 0.06 of ``value`` (converted states are rounded)."""

    def check(state: dict[str, Any]) -> bool:
        try:
            return abs(float(state["state"]) - value) < 0.06
        except ValueError:
            return False

    return check


def attribute_near(name: str, value: float) -> Callable[[dict[str, Any]], bool]:
    def check(state: dict[str, Any]) -> bool:
        shown = state["attributes"].get(name)
        return isinstance(shown, int | float) and abs(shown - value) < 0.06

    return check


def test_thermomaven_account_in_real_home_assistant(
    e2e_stack: Stack, thermomaven: CloudThread
) -> None:
    hass, client, phase = e2e_stack.hass, e2e_stack.client, e2e_stack.phases
    cloud = thermomaven.cloud

    with phase("config flow (REST: menu, ThermoMaven account)"):
        mark = thermomaven.run(_mark)
        add_account_through_flow(client, Account.of(cloud))
        (entry,) = client.wait_entries_loaded()
        assert entry["title"] == "ThermoMaven u…@example.com"
        client.wait_state(
            f"binary_sensor.{ACCOUNT}_cloud_connection", lambda s: s["state"] == "on", "on"
        )

    with phase("certificate, mutual-TLS MQTT, device list -> states"):
        # The hass process got a client certificate and subscribed with it (the CA trusted).
        topic = cloud.device(G4_ID).topic
        client_id = thermomaven.run(lambda c: c.wait_for_subscription(topic, since=mark))
        phase.say(f"hass subscribed to {topic} as {client_id}")
        assert thermomaven.run(_certificates) >= 1
        client.wait_state(
            f"sensor.{PROBE}_cook_state", lambda s: s["state"] == "cooking", "cooking"
        )
        temperature = client.wait_state(
            f"sensor.{PROBE}_temperature", near(f_to_c(1605)), "= 71.4 °C"
        )
        assert temperature["attributes"]["unit_of_measurement"] == "°C"
        client.wait_state(f"sensor.{PROBE}_target_temperature", near(TARGET_C), "= 95 °C")
        climate = client.wait_state(
            CLIMATE, attribute_near("temperature", TARGET_C), "target 95 °C"
        )
        assert climate["state"] == "heat", climate
        assert climate["attributes"]["hvac_action"] == "heating"
        assert client.value(f"sensor.{G4}_battery") == "64"
        assert client.value(f"binary_sensor.{G4}_connectivity") == "on"
        devices = client.ws("config/device_registry/list")
        (g4,) = (device for device in devices if device["name"] == "Smoker G4")
        assert (g4["manufacturer"], g4["model"]) == ("ThermoMaven", "ThermoMaven G4")
        # The probes are child devices of the thermometer.
        probes = sorted(d["name"] for d in devices if d.get("parent_device_id") == g4["id"])
        assert probes == [f"Probe {n}" for n in range(1, 5)]

    with phase("the thermometer reports: probe 1 hotter"):
        thermomaven.report(G4_ID, "probe1", temperature=HOTTER, areas=None, ambient=2400)
        client.wait_state(f"sensor.{PROBE}_temperature", near(f_to_c(HOTTER)), "= 74.0 °C")
        client.wait_state(CLIMATE, attribute_near("current_temperature", 74.0), "at 74.0 °C")
        client.wait_state(
            f"sensor.{PROBE}_ambient_temperature", near(f_to_c(2400)), "ambient 115.6 °C"
        )

    with phase("climate.set_temperature (REST) -> command -> states"):
        sent = len(thermomaven.commands())
        client.call(
            "POST",
            "/api/services/climate/set_temperature",
            {"entity_id": CLIMATE, "temperature": NEW_TARGET_C},
        )
        (command,) = thermomaven.commands()[sent:]
        assert command.device_id == G4_ID
        assert command.cmd_type == "WT09:cooking:action"
        assert command.cmd_data["probeColor"] == "probe1"
        assert command.cmd_data["cookingAction"] == 1  # start = edit of the running cook
        assert command.cmd_data["cookUuid"] == "0f8e7d6c5b4a39281706f5e4d3c2b1a0"
        assert command.cmd_data["setParams"] == [{"setTemperature": 1940}]  # 194 °F
        assert command.cmd_error == 0  # executed: the receipt said so
        assert cloud.probe(G4_ID, "probe1").set_temperatures == [1940]
        client.wait_state(CLIMATE, attribute_near("temperature", NEW_TARGET_C), "target 90 °C")
        # The next report carries the new target.
        thermomaven.report(G4_ID, "probe1")
        client.wait_state(
            f"sensor.{PROBE}_target_temperature", near(NEW_TARGET_C), "= 90 °C (reported)"
        )
        assert client.value(CLIMATE) == "heat"

    with phase("stop, scan home-assistant.log"):
        assert hass.stop() == 0
        offending = hass.offending_log_records()
        assert offending == 0, f"{offending} ERROR / blocking-call record(s) of {DOMAIN}"
        refused = thermomaven.run(_refused)
        assert refused == [], f"requests the fake cloud refused: {refused}"


async def _mark(cloud: FakeThermoMavenCloud) -> int:
    return cloud.mqtt_log_mark()


async def _certificates(cloud: FakeThermoMavenCloud) -> int:
    return len(cloud.certificates)


async def _refused(cloud: FakeThermoMavenCloud) -> list[str]:
    """Requests refused for a bad signature, header or token (none expected)."""
    return [f"{r.path}: {r.problem}" for r in cloud.requests if r.problem is not None]
