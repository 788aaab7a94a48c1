"""Fixtures of the end-to-end tests: a real ``hass`` process and a real Mosquitto.

These tests do not use the in-process ``hass`` of pytest-homeassistant-custom-component: the
autouse fixtures of tests/conftest.py that would create one are replaced here by no-ops.

A test module that needs the fake ThermoMaven cloud overrides ``hass_extras``::

    @pytest.fixture
    def hass_extras(thermomaven: CloudThread) -> list[Extra]:
        return [thermomaven.override()]
"""

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .browser import browser_page, check_chromium, list_screenshots, screenshot_dir
from .harness import (
    Broker,
    Client,
    Extra,
    HomeAssistant,
    Phases,
    preinstall_hass_requirements,
)
from .thermomaven import CloudThread, started_cloud

if TYPE_CHECKING:
    from playwright.sync_api import Page

FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No in-process hass here: the real one loads custom_components by itself."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No in-process hass here: each real one has its own fresh configuration directory."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """The real hass runs the integration unpatched."""


@pytest.fixture(autouse=True)
def _e2e_sockets(socket_enabled: None) -> None:
    """The tests talk to hass and mosquitto on 127.0.0.1 (pytest-socket allows that host)."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Note a failed test, for ``page`` to save the screen it failed on."""
    report = yield
    if call.when == "call" and call.excinfo is not None:
        item.stash[FAILED] = True
    return report


@dataclass
class Stack:
    """A running Mosquitto and an onboarded Home Assistant (owner dev / dev)."""

    broker: Broker
    hass: HomeAssistant
    phases: Phases

    @property
    def client(self) -> Client:
        return self.hass.client


@pytest.fixture
def phases(request: pytest.FixtureRequest) -> Iterator[Phases]:
    """The test's phase timer; the time of each phase is printed at the very end."""
    phases = Phases(request.node.name)
    yield phases
    phases.summary()


@pytest.fixture
def hass_extras() -> list[Extra]:
    """Test-only components for the hass process: none unless a test module says otherwise."""
    return []


@pytest.fixture
def thermomaven(tmp_path: Path, phases: Phases) -> Iterator[CloudThread]:
    """The fake ThermoMaven cloud (tests/thermomaven_cloud), running in a thread of its own."""
    thread = started_cloud(tmp_path / "thermomaven-cloud", phases)
    try:
        yield thread
    finally:
        with phases("fake ThermoMaven cloud: stop"):
            thread.stop()


@pytest.fixture
def e2e_stack(
    request: pytest.FixtureRequest, tmp_path: Path, phases: Phases, hass_extras: list[Extra]
) -> Iterator[Stack]:
    """Mosquitto, then ``hass -c <fresh dir>`` with IoT Hub copied in, onboarded over REST.

    A test module may set ``PREFERRED_BROKER_PORT`` (used when free, e.g. 1883 so that the
    screenshots show the usual port), and override ``hass_extras`` (see the module docs).
    Everything is stopped afterwards, whatever happened; the directory (home-assistant.log,
    hass.out, mosquitto.log) is kept in pytest's tmp dir.
    """
    broker = Broker(
        tmp_path / "mosquitto",
        preferred_port=getattr(request.module, "PREFERRED_BROKER_PORT", None),
    )
    hass = HomeAssistant(tmp_path / "config")
    phases.say(f"files in {tmp_path}")
    try:
        with phases("mosquitto"):
            broker.start()
        phases.say(f"mosquitto on {broker.host}:{broker.port} (user iot / password iot)")
        preinstall_hass_requirements(phases.say)
        with phases("hass start (HTTP answers)"):
            hass.install(hass_extras)
            hass.start()
        phases.say(f"Home Assistant at {hass.url} (pid {hass.process and hass.process.pid})")
        with phases("onboarding (REST)"):
            hass.client.onboard()
        with phases("hass startup finished (core state RUNNING)"):
            hass.client.wait_running()
        yield Stack(broker, hass, phases)
    finally:
        hass.terminate()
        broker.stop()


# --- the browser (see browser.py) -----------------------------------------------------------------


@pytest.fixture
def chromium_ready() -> None:
    """Skip (fail in CI) unless Chromium and the playwright package are there."""
    check_chromium()


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Path]:
    """Where the screenshots go (see browser.py); listed at the end."""
    directory = screenshot_dir(tmp_path)
    yield directory
    list_screenshots(directory)


@pytest.fixture
def page(
    request: pytest.FixtureRequest, chromium_ready: None, e2e_stack: Stack, tmp_path: Path
) -> Iterator[Page]:
    """A Chromium page (1280x800), fresh profile; a failed test's screen in failure.*."""
    with browser_page(tmp_path / "chromium-profile", e2e_stack.phases) as page:
        yield page
        if request.node.stash.get(FAILED, False):
            with contextlib.suppress(Exception):
                page.screenshot(path=str(tmp_path / "failure.png"))
                aria = page.locator("body").aria_snapshot()
                (tmp_path / "failure.aria.yaml").write_text(aria)
                e2e_stack.phases.say(f"the screen at the failure: {tmp_path}/failure.*")
