"""A person's setup, in a real browser: Chromium (Playwright) against a real Home Assistant.

Log in as the onboarded owner, Settings → Devices & services → Add integration, search
"IoT Hub", choose MQTT broker, fill the broker form, see the new hub, open the DHT11's device
page and watch a reading arrive. Then (browser_steps.py) a DHT11 reading out of range opens an
incident, a ThermoMaven account is added the same way against the fake ThermoMaven cloud
(tests/thermomaven_cloud), a probe's device page follows the thermometer's reports, and the
dashboard of dashboards/iot_hub.yaml shows the open incident and the probes, live. Every step
asserts the text the person sees, and each screen is saved as a PNG (1280 px wide): see
browser.py for where they go (``IOT_HUB_UPDATE_SCREENSHOTS=1``: docs/screenshots/).

Needs Debian's Chromium and the ``playwright`` package: scripts/setup_e2e installs both.
"""

from pathlib import Path
import re
import time
from typing import Any

import pytest

from .browser import (
    TALL_VIEWPORT,
    VIEWPORT,
    log_in,
    remove_offline_leftovers,
    save,
    wait_for_image,
)
from .browser_steps import (
    add_thermomaven_account,
    dashboard_incident_views,
    dashboard_thermomaven_view,
    install_dashboard,
    publish_too_hot_reading,
    thermomaven_probe_page,
)
from .conftest import Stack
from .harness import DOMAIN, Extra
from .thermomaven import CloudThread

# About 90 s, 55 of them waiting for the incident (the default rule's minimum duration).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

# The README's screenshots show the usual port when it is free (another free port otherwise).
PREFERRED_BROKER_PORT = 1883

DHT11_FIRST = {"temperature": 21.4, "humidity": 55}
DHT11_LIVE = {"temperature": 22.6, "humidity": 57}


@pytest.fixture
def hass_extras(thermomaven: CloudThread) -> list[Extra]:
    """The hass process talks to the fake ThermoMaven cloud."""
    return [thermomaven.override()]


def test_setup_in_the_browser(
    chromium_ready: None,
    e2e_stack: Stack,
    page: Any,
    shots: Path,
    thermomaven: CloudThread,
) -> None:
    from playwright.sync_api import expect

    broker, hass, client, phase = (
        e2e_stack.broker,
        e2e_stack.hass,
        e2e_stack.client,
        e2e_stack.phases,
    )
    address = f"{broker.host}:{broker.port}"
    hub = f"iot_hub_{broker.host.replace('.', '_')}_{broker.port}"

    with phase("browser: log in"):
        log_in(page, hass.url)

    remove_offline_leftovers(client)

    with phase("browser: Settings → Devices & services → Add integration"):
        page.get_by_role("link", name="Settings").click()
        page.get_by_text("Devices & services", exact=True).first.click()
        page.wait_for_url("**/config/integrations/dashboard")
        page.get_by_role("button", name="Add integration").click()
        search = page.get_by_placeholder("Search for a brand name")
        expect(search).to_be_visible()
        search.fill("IoT Hub")
        choice = page.get_by_text("IoT Hub", exact=True)
        expect(choice).to_have_count(1)
        expect(choice).to_be_visible()
        page.wait_for_load_state("networkidle")  # the brand icon
        wait_for_image(page.locator("dialog-add-integration img").first)
        save(page, shots, "add-integration-search")

    with phase("browser: menu"):
        choice.click()
        expect(page.get_by_text("Add to IoT Hub")).to_be_visible()
        expect(page.get_by_text("What do you want to connect?")).to_be_visible()
        expect(page.get_by_text("ThermoMaven account", exact=True)).to_be_visible()
        broker_choice = page.get_by_text("MQTT broker", exact=True)
        expect(broker_choice).to_be_visible()
        save(page, shots, "setup-menu")

    with phase("browser: broker form"):
        page.set_viewport_size(TALL_VIEWPORT)
        broker_choice.click()
        expect(
            page.get_by_text("The broker your DHT11, PIR and pressure-mat sensors publish to")
        ).to_be_visible()
        port = page.get_by_role("spinbutton", name="Port")
        expect(port).to_have_value("1883")  # the form's default
        page.get_by_role("textbox", name="Host").fill(broker.host)
        port.fill(str(broker.port))
        page.get_by_role("textbox", name="Username").fill(broker.username)
        page.get_by_role("textbox", name="Password").fill(broker.password)
        page.get_by_role("textbox", name="Host").focus()
        expect(
            page.get_by_text("Leave empty if the broker accepts anonymous clients.")
        ).to_be_visible()
        expect(page.get_by_role("textbox", name="Host")).to_have_value(broker.host)
        save(page, shots, "setup-broker-form")
        page.set_viewport_size(VIEWPORT)

    with phase("browser: connection test, topic families"):
        page.get_by_role("button", name="Submit").click()
        # The connection test is a progress screen: IoT Hub listens 3 s to a new broker.
        expect(page.get_by_text(f"Connecting to {address}")).to_be_visible()
        expect(page.get_by_text("Topic families")).to_be_visible()
        expect(page.get_by_text("In its first 3 seconds on the broker")).to_be_visible()
        expect(page.get_by_text("DHT11 sensors — messages: 0, topics: 0")).to_be_visible()
        save(page, shots, "setup-families")

    with phase("browser: submit, success"):
        page.get_by_role("button", name="Submit").click()
        device_name = page.get_by_role("textbox", name="Device name")
        expect(device_name).to_have_value(f"IoT Hub {address}")
        finish = page.get_by_role("button", name=re.compile("finish", re.IGNORECASE))
        expect(finish).to_be_visible()
        save(page, shots, "setup-success")
        entries = client.wait_entries_loaded()
        assert entries[0]["title"] == address
        finish.click()
        expect(device_name).to_have_count(0)

    with phase("messages (mosquitto_pub)"):
        broker.publish("dht11/sensor/data", DHT11_FIRST)
        broker.publish(
            "iot/sensors/ESP32_001/data",
            {
                "device_id": "ESP32_001",
                "temperature": 23.5,
                "humidity": 48.2,
                "timestamp": 61234,
            },
        )
        broker.publish(
            "iot/devices/ESP32_001/status",
            {"status": "online", "battery": 87, "firmware": "1.4.2"},
        )
        for kind, data in (
            ("motion", {"presence": True}),
            ("pressure", {"pressure": "high", "duration_ms": 500}),
        ):
            broker.publish(
                f"sensor/{kind}",
                {
                    "event_id": f"browser-{kind}",
                    "device_id": "raspberry-1",
                    "source": f"sensor-{kind}",
                    "type": f"{kind.upper()}_DETECTED",
                    "data": data,
                    "timestamp": int(time.time()),
                },
            )
        client.wait_state(f"sensor.{hub}_devices", lambda s: s["state"] == "3", "= 3 devices")

    with phase("browser: integration page"):
        page.goto(hass.url + "/config/integrations/dashboard")
        page.get_by_text("IoT Hub", exact=True).click()
        page.wait_for_url(f"**/config/integrations/integration/{DOMAIN}")
        expect(page.get_by_text(address, exact=True)).to_be_visible()
        for name in ("DHT11", "ESP32_001", "raspberry-1", f"IoT Hub {address}"):
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
        devices_link = page.locator(f"a[href*='/config/devices/dashboard'][href*='{DOMAIN}']")
        expect(devices_link).to_contain_text(re.compile(r"3\s+devices"))
        expect(page.get_by_role("button", name="Add incident rule")).to_be_visible()
        save(page, shots, "integration-page")

    with phase("browser: DHT11 device page, live reading"):
        page.get_by_text("DHT11", exact=True).first.click()
        page.wait_for_url("**/config/devices/device/**")
        expect(page.get_by_text("by Aosong")).to_be_visible()
        expect(page.get_by_text(f"IoT Hub {address}", exact=True)).to_be_visible()
        expect(page.get_by_text("21.4 °C")).to_be_visible()
        broker.publish("dht11/sensor/data", DHT11_LIVE)
        # The page updates by itself (websocket), no reload.
        expect(page.get_by_text("22.6 °C")).to_be_visible()
        expect(page.get_by_text("57%")).to_be_visible()
        save(page, shots, "device-dht11")

    publish_too_hot_reading(e2e_stack)
    add_thermomaven_account(page, e2e_stack, thermomaven, shots)
    thermomaven_probe_page(page, e2e_stack, thermomaven, shots)
    install_dashboard(e2e_stack)
    dashboard_thermomaven_view(page, e2e_stack, thermomaven, shots)
    dashboard_incident_views(page, e2e_stack, shots)

    with phase("stop, scan home-assistant.log"):
        assert hass.stop() == 0
        assert hass.offending_log_records() == 0
