"""A real Home Assistant (``hass -c <dir>``) and a real Mosquitto for the end-to-end tests.

Nothing here runs Home Assistant in the test process: ``HomeAssistant`` copies
``custom_components/iot_hub`` into a fresh configuration directory, as HACS installs it, and
runs the venv's ``hass`` on a free loopback port; ``Broker`` (``mosquitto``) runs ``mosquitto``
with a password listener; ``Client`` (``rest``) speaks to Home Assistant only through its REST
and websocket APIs (the transport of ``scripts/dev_ha.py``, imported from its file), as the
frontend and a user would. The shared pieces (paths, ``Phases``, ``wait_for``) are in ``base``;
this module re-exports them all, so tests import from ``harness`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import signal
import subprocess
import sys

from .base import (
    DOMAIN,
    HASS,
    ROOT,
    USER,
    DevError,
    Phases,
    dev_ha,
    free_port,
    in_ci,
    now,
    port_free,
    wait_for,
)
from .mosquitto import Broker
from .rest import Client

__all__ = [
    "DOMAIN",
    "ROOT",
    "USER",
    "Broker",
    "Client",
    "DevError",
    "Extra",
    "HomeAssistant",
    "Phases",
    "free_port",
    "in_ci",
    "now",
    "port_free",
    "preinstall_hass_requirements",
    "wait_for",
]

CONFIGURATION_YAML = """\
# Written by tests/e2e/harness.py. Not default_config: its go2rtc/dhcp parts cannot start here.
frontend:
config:
history:
logbook:
mobile_app:
automation: !include automations.yaml
script: !include scripts.yaml
notify:
system_health:
# Commit every second: the logbook and history the tests read are in the database soon.
recorder:
  commit_interval: 1
# No http: section. Its settings are in .storage/http (127.0.0.1, confirmed), written before
# every start, as scripts/develop does.

logger:
  default: warning
  logs:
    custom_components.iot_hub: debug
"""


@dataclass(frozen=True)
class Extra:
    """A test-only custom component copied next to IoT Hub, and its configuration.yaml part.

    Product code never imports tests: an extra only feeds the running hass what the in-process
    tests set up themselves (e.g. ``CloudThread.override()`` in thermomaven.py: the fake
    ThermoMaven cloud's endpoints).
    """

    source: Path  # the component's folder under tests/e2e/
    yaml: str  # appended to configuration.yaml


class HomeAssistant:
    """The venv's ``hass -c <config_dir>`` on a free loopback port."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config_dir / "home-assistant.log"
        self.out_path = config_dir / "hass.out"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = Client(self.url)
        self.runs = 0

    def install(self, extras: Sequence[Extra] = ()) -> None:
        """A fresh configuration directory with IoT Hub copied in, as HACS does.

        ``extras``: test-only components copied beside it, their YAML added to the config.
        """
        components = self.config_dir / "custom_components"
        components.mkdir(parents=True, exist_ok=True)
        for source in (ROOT / "custom_components" / DOMAIN, *(e.source for e in extras)):
            shutil.copytree(
                source,
                components / source.name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
            # A test-only component keeps its manifest under another name in the repository:
            # hassfest validates every manifest.json it finds, and it is no integration of ours.
            template = components / source.name / "manifest.template.json"
            if template.exists():
                template.rename(template.with_name("manifest.json"))
        configuration = "\n".join([CONFIGURATION_YAML, *(e.yaml for e in extras)])
        (self.config_dir / "configuration.yaml").write_text(configuration)
        (self.config_dir / "automations.yaml").write_text("[]\n")
        (self.config_dir / "scripts.yaml").write_text("{}\n")

    def start(self, timeout: float = 120.0) -> None:
        assert self.process is None or self.process.poll() is not None, "hass is running"
        self._keep_log()
        self.runs += 1
        # The HTTP settings as the confirmed configuration (see scripts/dev_ha.py).
        dev_ha.write_http_store(self.config_dir, self.port)
        with self.out_path.open("ab") as out:
            self.process = subprocess.Popen(
                [str(HASS), "-c", str(self.config_dir), "--log-no-color"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            dev_ha.wait_http(self.client.api, timeout, self.process.pid)
        except DevError as err:
            raise AssertionError(f"{err}\n--- hass.out ---\n{self.tail()}") from None

    def tail(self, lines: int = 40) -> str:
        text = self.out_path.read_text(errors="replace") if self.out_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 60.0) -> int:
        """Stop as a user would (the homeassistant.stop action); return the exit code."""
        process = self.process
        assert process is not None
        with contextlib.suppress(DevError):  # the connection may close under the answer
            self.client.api.call("POST", "/api/services/homeassistant/stop", {})
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.terminate()
            raise AssertionError(f"hass did not stop within {timeout:.0f} s") from None

    def terminate(self) -> None:
        """SIGTERM (SIGKILL after 60 s): for the teardown, whatever happened."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _keep_log(self) -> None:
        """Copy the last run's log: at each start hass moves home-assistant.log to .log.1."""
        if self.log_path.exists() and self.runs:
            shutil.copyfile(self.log_path, self.run_log(self.runs))

    def run_log(self, run: int) -> Path:
        return self.config_dir / f"home-assistant.run{run}.log"

    def offending_log_records(self) -> int:
        """ERROR records of iot_hub and "Detected blocking call" in the logs of every run.

        Call it once hass has stopped (its log is complete then).
        """
        self._keep_log()
        count = 0
        for run in range(1, self.runs + 1):
            count += dev_ha.scan_log(self.run_log(run))
        return count


def preinstall_hass_requirements(say: Callable[[str], None]) -> None:
    """Install what hass would pip-install at its first start (normally scripts/setup_e2e did)."""
    from .hass_requirements import missing

    wanted = missing()
    if not wanted:
        return
    say(f"preinstalling Home Assistant's runtime requirements: {' '.join(wanted)}")
    uv = Path(sys.executable).with_name("uv")
    command = (
        [str(uv), "pip", "install", "-q", "--python", sys.executable, *wanted]
        if uv.exists()
        else [sys.executable, "-m", "pip", "install", "-q", *wanted]
    )
    subprocess.run(command, check=True, timeout=600)
