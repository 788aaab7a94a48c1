"""A Home Assistant that already runs its own MQTT integration, in a real browser.

Home Assistant's MQTT integration is set up first (through its own config flow, over REST),
on the same Mosquitto. Then, as a person sees it: IoT Hub's menu offers that broker first;
a DHT11 reading makes the MQTT integration offer IoT Hub under **Discovered**; adding it asks
to confirm, tests the connection, shows the families with the reading counted, and creates
the entry (nothing typed). Screens saved as the README's images (see browser.py).
"""

from pathlib import Path
from typing import Any

import pytest

from .base import wait_for
from .browser import log_in, remove_offline_leftovers, save
from .conftest import Stack
from .harness import DOMAIN
from .rest import Client

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

# The README's screenshots show the usual port when it is free (another free port otherwise).
PREFERRED_BROKER_PORT = 1883
READING = {"temperature": 21.4, "humidity": 55}


def set_up_mqtt_integration(client: Client, stack: Stack) -> None:
    """Home Assistant's MQTT integration on the test broker, as its own setup screen does."""
    broker = stack.broker
    result = client.call(
        "POST", "/api/config/config_entries/flow", {"handler": "mqtt"}, ok=(200, 201)
    )
    assert (result["type"], result["step_id"]) == ("form", "broker"), result
    result = client.call(
        "POST",
        f"/api/config/config_entries/flow/{result['flow_id']}",
        {
            "broker": broker.host,
            "port": broker.port,
            "username": broker.username,
            "password": broker.password,
            # The form's collapsed section, left as it opens.
            "other_settings": {
                "keepalive": 60,
                "set_client_cert": False,
                "set_ca_cert": "off",
                "transport": "tcp",
            },
        },
    )
    assert result["type"] == "create_entry", result

    def loaded() -> bool:
        entries = client.call("GET", "/api/config/config_entries/entry?domain=mqtt")
        return any(e["domain"] == "mqtt" and e["state"] == "loaded" for e in entries)

    wait_for(loaded, 30.0, lambda: "the MQTT integration loaded")


def test_mqtt_integration_broker_and_discovery(
    chromium_ready: None, e2e_stack: Stack, page: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    broker, hass, client, phase = (
        e2e_stack.broker,
        e2e_stack.hass,
        e2e_stack.client,
        e2e_stack.phases,
    )
    address = f"{broker.host}:{broker.port}"

    with phase("Home Assistant's MQTT integration (REST)"):
        set_up_mqtt_integration(client, e2e_stack)
    remove_offline_leftovers(client)
    log_in(page, hass.url)

    with phase("browser: the menu offers the MQTT integration's broker"):
        page.goto(f"{hass.url}/config/integrations/dashboard")
        page.get_by_role("button", name="Add integration").click()
        page.get_by_placeholder("Search for a brand name").fill("IoT Hub")
        page.get_by_text("IoT Hub", exact=True).click()
        option = page.get_by_text(f"Broker of the MQTT integration ({address})", exact=True)
        expect(option).to_be_visible()
        expect(page.get_by_text("MQTT broker", exact=True)).to_be_visible()
        save(page, shots, "setup-menu-mqtt-integration")
        option.click()
        expect(page.get_by_text("Broker of the MQTT integration", exact=True)).to_be_visible()
        expect(page.get_by_text(f"IoT Hub connects to {address}")).to_be_visible()
        # Nothing to type (and no stored secret shown: tests/test_config_flow_mqtt.py).
        expect(page.locator("ha-dialog ha-form")).to_have_count(0)
        page.get_by_role("button", name="Close").click()

    with phase("a DHT11 reading: IoT Hub discovered"):
        # Retained, as a sensor's last reading stays on the broker.
        broker.publish("dht11/sensor/data", READING, retain=True)
        page.goto(f"{hass.url}/config/integrations/dashboard")
        discovered = page.locator("ha-config-flow-card").filter(has_text="IoT Hub")
        expect(discovered).to_be_visible()
        expect(discovered).to_contain_text(address)
        expect(page.get_by_text("Discovered", exact=True)).to_be_visible()
        save(page, shots, "discovered")

    with phase("browser: add the discovered broker"):
        discovered.get_by_role("button", name="Add").click()
        expect(page.get_by_text("IoT Hub sensors found", exact=True)).to_be_visible()
        expect(page.get_by_text("received a message on dht11/sensor/data")).to_be_visible()
        save(page, shots, "setup-discovered-confirm")
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_text("Topic families", exact=True)).to_be_visible()
        expect(page.get_by_text("DHT11 sensors — messages: 1, topics: 1")).to_be_visible()
        save(page, shots, "setup-families-seen")
        page.get_by_role("button", name="Submit").click()
        # The success dialog names the hub (and the DHT11, if its retained reading was
        # handled before the dialog asked for the entry's devices).
        expect(page.get_by_placeholder(f"IoT Hub {address}")).to_be_visible()

    with phase("the entry works, nothing else offered"):
        (entry,) = client.wait_entries_loaded()
        assert (entry["title"], entry["source"]) == (address, "mqtt")
        client.wait_state("sensor.dht11_temperature", lambda s: s["state"] == "21.4", "21.4")
        progress = client.ws("config_entries/flow/progress")
        assert [flow for flow in progress if flow["handler"] == DOMAIN] == []

    with phase("stop, scan home-assistant.log"):
        assert hass.stop() == 0
        assert hass.offending_log_records() == 0
