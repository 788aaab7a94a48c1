"""Fixtures of the end-to-end tests: a real ``hass`` process and a real Mosquitto.

These tests do not use the in-process ``hass`` of pytest-homeassistant-custom-component: the
autouse fixtures of tests/conftest.py that would create one are replaced here by no-ops.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import Broker, Client, HomeAssistant, Phases, preinstall_hass_requirements


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
def e2e_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """Mosquitto, then ``hass -c <fresh dir>`` with IoT Hub copied in, onboarded over REST.

    A test module may set ``PREFERRED_BROKER_PORT`` (used when free, e.g. 1883 so that the
    screenshots show the usual port). Everything is stopped afterwards, whatever happened;
    the directory (home-assistant.log, hass.out, mosquitto.log) is kept in pytest's tmp dir.
    """
    phases = Phases(request.node.name)
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
            hass.install()
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
        phases.summary()
