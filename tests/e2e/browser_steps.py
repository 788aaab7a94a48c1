"""The browser test's steps after the broker's: an incident, a ThermoMaven account, the dashboard.

Each step is a function of its own (test_browser.py calls them in order), asserts the text a
person sees and saves its screenshots (see browser.py):

- ``publish_too_hot_reading``: a DHT11 reading above the default rule (35 °C): the warning
  incident opens once it has lasted the rule's minimum duration (60 s), during the next steps;
- ``add_thermomaven_account``: Add integration → IoT Hub → ThermoMaven account, the form
  filled in (``thermomaven_setup``), signed in against the fake cloud;
- ``thermomaven_probe_page``: the IoT Hub page → Smoker G4 → Probe 1, whose values follow the
  thermometer's reports without a reload (``thermomaven_device``);
- ``install_dashboard``: dashboards/iot_hub.yaml with this instance's ids;
- ``dashboard_thermomaven_view``: its ThermoMaven view following the reports
  (``dashboard_thermomaven``), and a probe's + button sending the thermometer a command;
- ``dashboard_incident_views``: once the incident is open, the Fleet view
  (``dashboard``) and the Incidents view (``dashboard_incidents``) show it.
"""

from __future__ import annotations

from pathlib import Path
import re
import time
from typing import TYPE_CHECKING

from ..thermomaven_cloud.records import RecordedCommand
from .browser import (
    DASHBOARD,
    DASHBOARD_URL,
    TALL_VIEWPORT,
    VIEWPORT,
    expect_read,
    fill_dashboard,
    read,
    save,
)
from .conftest import Stack
from .harness import DOMAIN, wait_for
from .thermomaven import ACCOUNT_TITLE, COUNTRY_NAME, G4_ID, Account, CloudThread

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

DHT11_TOO_HOT = {"temperature": 45, "humidity": 57}
# The default temperature rule: above 35 °C for 60 s opens a warning.
MIN_DURATION = 60.0
# The thermometer's reports during the test (tenths of °F, as the fake cloud keeps them).
PROBE1_HOTTER = 1660  # 166.0 °F = 74.4 °C
PROBE2_REPORT = {"temperature": 1495, "areas": None, "remained_sec": 2700}  # 65.3 °C, 45 min
# What a card shows for an entity without a value.
NOT_A_VALUE = re.compile(r"\b(Unavailable|Unknown|Entity not found|Entity not available)\b")


def publish_too_hot_reading(stack: Stack) -> float:
    """Publish 45 °C from the DHT11; return when (``time.monotonic``)."""
    with stack.phases("DHT11 too hot (45 °C): the incident opens 60 s later"):
        stack.broker.publish("dht11/sensor/data", DHT11_TOO_HOT)
    return time.monotonic()


def add_thermomaven_account(
    page: Page, stack: Stack, thermomaven: CloudThread, shots: Path
) -> None:
    """The ThermoMaven account, added as a person does (against the fake cloud)."""
    from playwright.sync_api import expect

    hass, client, phase = stack.hass, stack.client, stack.phases
    account = Account.of(thermomaven.cloud)
    # The config flow's dialog (its content is slotted: role-based scoping misses it).
    dialog = page.locator("dialog-data-entry-flow")
    with phase("browser: Add integration → IoT Hub → ThermoMaven account"):
        page.goto(hass.url + "/config/integrations/dashboard")
        page.get_by_role("button", name="Add integration").click()
        search = page.get_by_placeholder("Search for a brand name")
        expect(search).to_be_visible()
        search.fill("IoT Hub")
        # The IoT Hub card of the broker's entry is behind the dialog: the dialog's item.
        page.locator("dialog-add-integration").get_by_text("IoT Hub", exact=True).click()
        expect(page.get_by_text("What do you want to connect?")).to_be_visible()
        page.get_by_text("ThermoMaven account", exact=True).click()

    with phase("browser: ThermoMaven account form"):
        expect(dialog.get_by_text("One session per account:")).to_be_visible()
        expect(dialog.get_by_text("IoT Hub signs in before saving.")).to_be_visible()
        country = dialog.get_by_label("Country")
        expect(country).to_contain_text("United Kingdom")  # Home Assistant's country
        dialog.get_by_role("textbox", name="Email").fill(account.email)
        dialog.get_by_role("textbox", name="Password").fill(account.password)
        country.click()
        page.get_by_role("menuitem", name=COUNTRY_NAME).click()
        expect(country).to_contain_text(COUNTRY_NAME)
        expect(dialog.get_by_role("textbox", name="Email")).to_have_value(account.email)
        expect(dialog.get_by_role("textbox", name="Password")).to_have_value(account.password)
        expect(
            dialog.get_by_text("The country chosen when the account was created")
        ).to_be_visible()
        save(page, shots, "thermomaven_setup")

    with phase("browser: sign in, success"):
        dialog.get_by_role("button", name="Submit").click()
        # "Name and assign": the account's device first, then its thermometers and probes.
        finish = dialog.get_by_role("button", name=re.compile("finish", re.IGNORECASE))
        expect(finish).to_be_visible()
        expect(dialog.get_by_text("Cloud account", exact=True)).to_be_visible()
        names = dialog.get_by_role("textbox", name="Device name")
        expect(names.first).to_have_value(ACCOUNT_TITLE)
        entries = client.wait_entries_loaded(2)
        assert ACCOUNT_TITLE in {entry["title"] for entry in entries}
        finish.click()
        expect(finish).to_have_count(0)


def thermomaven_probe_page(page: Page, stack: Stack, thermomaven: CloudThread, shots: Path) -> None:
    """The thermometer's page, then its probe 1's, which follows the reports by itself."""
    from playwright.sync_api import expect

    hass, phase = stack.hass, stack.phases
    with phase("browser: IoT Hub page → Smoker G4"):
        page.goto(hass.url + f"/config/integrations/integration/{DOMAIN}")
        # The entry's title, and the account's device.
        expect(page.get_by_text(ACCOUNT_TITLE, exact=True)).to_have_count(2)
        page.get_by_text("Smoker G4", exact=True).first.click()
        page.wait_for_url("**/config/devices/device/**")
        expect(page.get_by_text("ThermoMaven G4 (WT09)")).to_be_visible()
        expect(page.get_by_text("by ThermoMaven")).to_be_visible()
        expect(page.get_by_text("Sub-devices")).to_be_visible()
        probes = [page.get_by_role("link", name=re.compile(rf"^Probe {n}\b")) for n in range(1, 5)]
        for probe in probes:
            expect(probe).to_contain_text("9 entities")

    with phase("browser: Probe 1 device page, live report"):
        probes[0].click()
        expect(page.get_by_role("link", name="Smoker G4")).to_be_visible()  # "Part of"
        sensors = page.locator("ha-device-entities-card").filter(has_text="Sensors")
        controls = page.locator("ha-device-entities-card").filter(has_text="Controls")
        expect_read(
            sensors,
            "Ambient temperature 114.7 °C",
            "Battery 88%",
            "Cook state Cooking",
            "In the dock Off",
            "Target temperature 95 °C",
            "Temperature 71.4 °C",
            "Time remaining 152m",
        )
        expect_read(controls, r"Probe 1 Heating \(Cooking\) 95 °C Currently ?: 71\.4 °C")
        # The thermometer reports: the page follows by itself (websocket), no reload.
        thermomaven.report(G4_ID, "probe1", temperature=PROBE1_HOTTER, areas=None)
        expect_read(sensors, "Temperature 74.4 °C")
        expect_read(controls, r"Currently ?: 74\.4 °C")
        save(page, shots, "thermomaven_device")


def install_dashboard(stack: Stack) -> None:
    """dashboards/iot_hub.yaml with this instance's ids, as the README tells users to adapt it."""
    client, broker = stack.client, stack.broker
    hub = f"iot_hub_{broker.host.replace('.', '_')}_{broker.port}"
    with stack.phases("dashboard from dashboards/iot_hub.yaml (websocket)"):
        devices = {
            re.sub(r"\W", "_", (d.get("name_by_user") or d["name"] or "").lower()): d["id"]
            for d in client.ws("config/device_registry/list")
        }
        config = fill_dashboard(DASHBOARD.read_text(), hub, devices)
        client.ws(
            "lovelace/dashboards/create",
            url_path=DASHBOARD_URL,
            title=config.get("title", "IoT Hub"),
            icon="mdi:access-point-network",
            mode="storage",
            require_admin=False,
            show_in_sidebar=True,
        )
        client.ws("lovelace/config/save", url_path=DASHBOARD_URL, config=config)
        views = [view["path"] for view in config["views"]]
        assert views == ["fleet", "incidents", "thermomaven"], views


def dashboard_thermomaven_view(
    page: Page, stack: Stack, thermomaven: CloudThread, shots: Path
) -> None:
    """The ThermoMaven view follows the reports; its thermostat's + sends a command."""
    from playwright.sync_api import expect

    view = page.locator("hui-root")

    def probe(n: int) -> Locator:
        """The probe's thermostat and its rows."""
        return page.locator("hui-vertical-stack-card").filter(has_text=f"Probe {n}")

    with stack.phases("browser: dashboard, ThermoMaven view, live"):
        page.set_viewport_size(TALL_VIEWPORT)  # the four probes
        page.goto(f"{stack.hass.url}/{DASHBOARD_URL}/thermomaven")
        expect(page.get_by_text("Thermometer online")).to_be_visible()
        expect_read(
            view,
            r"Smoker G4 Cloud connection Connected Thermometer online Connected Battery 64 ?%",
        )
        expect_read(
            probe(1),
            r"Probe 1 Heating 95 ?°C .*74\.4 ?°C",  # (the target twice: shown, and its label)
            r"Cook state Cooking Time remaining 152m Ambient 114\.7 ?°C Battery 88 ?%",
        )
        # Probe 2 reports a hotter temperature and an estimate: the view follows.
        thermomaven.report(G4_ID, "probe2", **PROBE2_REPORT)
        expect_read(
            probe(2),
            r"Probe 2 Heating 74 ?°C .*65\.3 ?°C",
            r"Cook state Cooking Time remaining 45m Ambient 112\.8 ?°C Battery 71 ?%",
        )
        # Docked and idle: the rows without a value are hidden.
        expect_read(probe(3), r"Probe 3 Not cooking 93 ?°C .*Cook state In the dock$")
        expect_read(
            probe(4),
            r"Probe 4 Not cooking 63 ?°C .*Cook state Idle Ambient 22\.4 ?°C Battery 100 ?%$",
        )
        text = read(view)
        assert not NOT_A_VALUE.search(text), text
        save(page, shots, "dashboard_thermomaven")

    with stack.phases("browser: dashboard, probe 1's + → command to the thermometer"):
        sent = len(thermomaven.commands())
        minus, plus = probe(1).locator("hui-thermostat-card").get_by_role("button").all()[:2]
        expect(minus).to_be_visible()
        plus.click()
        expect_read(probe(1), r"Probe 1 Heating 96 ?°C")

        def command() -> RecordedCommand | None:
            commands = thermomaven.commands()[sent:]
            return commands[0] if commands and commands[0].done.is_set() else None

        sent_command = wait_for(command, 15, lambda: f"a command after {sent}")
        assert sent_command.cmd_type == "WT09:cooking:action"
        assert sent_command.cmd_data["probeColor"] == "probe1"
        # 96 °C = 204.8 °F: the thermometer takes whole °F (tenths on the wire).
        assert sent_command.cmd_data["setParams"] == [{"setTemperature": 2050}]
        assert sent_command.cmd_error == 0
        stack.phases.say(f"probe 1's card after the command: {read(probe(1))}")
        page.set_viewport_size(VIEWPORT)


def dashboard_incident_views(page: Page, stack: Stack, shots: Path) -> None:
    """Once the DHT11's incident is open: the Fleet and Incidents views show it."""
    from playwright.sync_api import expect

    hass, client, phase = stack.hass, stack.client, stack.phases
    view = page.locator("hui-root")
    with phase("DHT11 incident open (after the rule's 60 s)"):
        client.wait_state(
            "binary_sensor.dht11_incident",
            lambda s: s["state"] == "on" and s["attributes"].get("status") == "open",
            "on (open)",
            timeout=MIN_DURATION + 30,
        )

    with phase("browser: dashboard, Fleet view with the open incident"):
        page.goto(f"{hass.url}/{DASHBOARD_URL}/fleet")
        expect(page.get_by_text("DHT11 temperature")).to_be_visible()
        text = expect_read(
            view,
            r"Hub Devices 3 Online 3 Offline 0 Rejected 0 Incidents 1 Broker Connected",
            r"DHT11 temperature 45\.0 °C",
            r"Incident Problem Severity Warning",
            r"ESP32_001 Connectivity Connected .* Firmware 1\.4\.2 Incident OK",
            r"raspberry-1 Motion",
        )
        assert not NOT_A_VALUE.search(text), text
        page.wait_for_load_state("networkidle")  # the graphs' history
        save(page, shots, "dashboard")

    with phase("browser: dashboard, Incidents view"):
        page.goto(f"{hass.url}/{DASHBOARD_URL}/incidents")
        expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
        text = expect_read(
            view,
            r"Open or acknowledged 1 Highest severity Warning DHT11 Problem ESP32_001 OK",
            r"DHT11 Warning ?, open since \d\d:\d\d: temperature 45\.0 \(limit 35\.0\)",
            r"Acknowledge",
            r"DHT11: temperature 45 °C is above 35 °C \(warning\)",
        )
        assert not NOT_A_VALUE.search(text), text
        save(page, shots, "dashboard_incidents")
