"""A real Home Assistant (``hass -c <dir>``) and a real Mosquitto for the end-to-end tests.

Nothing here runs Home Assistant in the test process: ``HomeAssistant`` copies
``custom_components/iot_hub`` into a fresh configuration directory, as HACS installs it, and
runs the venv's ``hass`` on a free loopback port; ``Broker`` runs ``mosquitto`` with a password
listener; ``Client`` speaks to Home Assistant only through its REST and websocket APIs (the
transport of ``scripts/dev_ha.py``, imported from its file), as the frontend and a user would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import importlib.util
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from types import ModuleType
from typing import Any
import urllib.parse

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "iot_hub"
# The venv's hass: the one next to the Python running the tests.
HASS = Path(sys.executable).with_name("hass")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _load_dev_ha() -> ModuleType:
    """Import scripts/dev_ha.py (standard library only; scripts/ is not a package)."""
    name = "iot_hub_scripts_dev_ha"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "dev_ha.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


dev_ha = _load_dev_ha()
USER: dict[str, str] = dev_ha.USER  # dev / dev, the owner created by onboarding
DevError: type[Exception] = dev_ha.DevError


def in_ci() -> bool:
    """Whether we run in CI (.ci/run sets CI=true): missing tools fail there, never skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- timings ----------------------------------------------------------------------------------


@dataclass
class Phases:
    """Times each phase of a test and prints it (visible with ``pytest -s``)."""

    name: str
    times: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        print(f"[{self.name} {time.monotonic() - self.start:6.1f}s] {message}", flush=True)

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        self.say(f"{phase} ...")
        began = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        finally:
            spent = time.monotonic() - began
            self.times[phase] = self.times.get(phase, 0.0) + spent
            self.say(f"{phase}: {spent:.1f} s{'' if ok else ' (FAILED)'}")

    def summary(self) -> None:
        total = time.monotonic() - self.start
        lines = [f"  {phase:<40} {spent:6.1f} s" for phase, spent in self.times.items()]
        print(
            f"[{self.name}] phase times:\n"
            + "\n".join(lines)
            + f"\n  {'total':<40} {total:6.1f} s",
            flush=True,
        )


# --- mosquitto ----------------------------------------------------------------------------------


class Broker:
    """Mosquitto on 127.0.0.1 with one password listener (user iot / password iot).

    Sessions are kept (no clean start needed by the broker) and their queues are large, as in
    scripts/develop: what is published while Home Assistant restarts is delivered afterwards.
    """

    host = "127.0.0.1"
    username = "iot"
    password = "iot"

    def __init__(self, directory: Path, *, preferred_port: int | None = None) -> None:
        self.directory = directory
        self.preferred_port = preferred_port
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = directory / "mosquitto.log"
        self._subscribers: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        passwd = self.directory / "passwd"
        subprocess.run(
            ["mosquitto_passwd", "-b", "-c", str(passwd), self.username, self.password],
            check=True,
            capture_output=True,
        )
        passwd.chmod(0o600)
        candidates = []
        if self.preferred_port and port_free(self.preferred_port):
            candidates.append(self.preferred_port)
        candidates += [free_port() for _ in range(3)]
        output = ""
        for port in candidates:
            output = self._launch(port, passwd)
            if self.process is not None:
                return
            if "Address already in use" not in output:
                break
        raise AssertionError(f"mosquitto did not start:\n{output}")

    def _launch(self, port: int, passwd: Path) -> str:
        config = self.directory / "mosquitto.conf"
        lines = [
            "per_listener_settings true",
            "persistence true",
            f"persistence_location {self.directory}/",
            "max_queued_messages 100000",
            "max_queued_bytes 0",
            f"log_dest file {self.log_path}",
            "log_type all",
            # As root mosquitto would drop to 'mosquitto', which cannot read the 0600 file.
            *(["user root"] if os.geteuid() == 0 else []),
            f"listener {port} {self.host}",
            "allow_anonymous false",
            f"password_file {passwd}",
        ]
        config.write_text("\n".join(lines) + "\n")
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        process = subprocess.Popen(
            [MOSQUITTO, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        output = ""
        while time.monotonic() < deadline:
            output = self._read_log(offset)
            if process.poll() is not None:
                return output + f"\n(exit code {process.returncode})"
            if " running" in output and not port_free(port):
                self.process, self.port = process, port
                return output
            time.sleep(0.05)
        process.kill()
        process.wait()
        return output + "\n(not running after 10 s)"

    def _read_log(self, offset: int) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def _args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-u", self.username, "-P", self.password]

    def publish(self, topic: str, payload: dict[str, Any] | str, *, retain: bool = False) -> None:
        """``mosquitto_pub`` with QoS 1, as the README's "Try it" does."""
        message = payload if isinstance(payload, str) else json.dumps(payload)
        args = ["mosquitto_pub", *self._args(), "-q", "1", "-t", topic, "-m", message]
        if retain:
            args.append("-r")
        done = subprocess.run(args, capture_output=True, timeout=15, check=False)
        assert done.returncode == 0, f"mosquitto_pub {topic}: {done.stderr.decode().strip()}"

    def record(self, path: Path, *topics: str) -> None:
        """Write everything published on ``topics`` to ``path`` (``mosquitto_sub -v``)."""
        args = ["mosquitto_sub", *self._args(), "-q", "1", "-v"]
        for topic in topics:
            args += ["-t", topic]
        with path.open("wb") as out:
            self._subscribers.append(
                subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
                )
            )

    def stop(self) -> None:
        for process in [*self._subscribers, self.process]:
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._subscribers.clear()
        self.process = None


# --- Home Assistant -----------------------------------------------------------------------------

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

    def install(self) -> None:
        """A fresh configuration directory with IoT Hub copied in, as HACS does."""
        components = self.config_dir / "custom_components"
        components.mkdir(parents=True, exist_ok=True)
        shutil.copytree(
            ROOT / "custom_components" / DOMAIN,
            components / DOMAIN,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        (self.config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML)
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


# --- the REST and websocket APIs -----------------------------------------------------------------


class Client:
    """Home Assistant's REST API (and its websocket) with the owner's token."""

    def __init__(self, url: str) -> None:
        self.api = dev_ha.Api(url)
        self.refresh_token: str | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.api.call(method, path, body, **kw)[1]

    def websocket(self) -> Any:
        return dev_ha.WebSocket(self.api)

    def ws(self, kind: str, **fields: Any) -> Any:
        with self.websocket() as ws:
            return ws.command(kind, **fields)

    def refresh(self) -> None:
        """A new access token from the stored refresh token (after a restart)."""
        assert self.refresh_token
        _, tokens = self.api.call(
            "POST",
            "/auth/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "client_id": self.api.client_id,
            },
            auth=False,
        )
        self.api.token = tokens["access_token"]

    # -- onboarding, as the frontend's onboarding pages do it --

    def onboard(self) -> None:
        api = self.api
        _, steps = api.call("GET", "/api/onboarding", auth=False)
        assert not any(step["done"] for step in steps), f"not a fresh instance: {steps}"
        # 1. The owner: an authorization code, exchanged for tokens.
        _, answer = api.call(
            "POST", "/api/onboarding/users", {**USER, "client_id": api.client_id}, auth=False
        )
        tokens = dev_ha.exchange_code(api, answer["auth_code"])
        api.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        # 2. Core configuration: the frontend saves it, then finishes the step.
        self.ws(
            "config/core/update",
            unit_system="metric",
            country="GB",
            currency="GBP",
            time_zone="Europe/London",
            location_name="Home",
        )
        api.call("POST", "/api/onboarding/core_config", {})
        # 3. Analytics (nothing is sent: the preferences stay off), 4. integrations.
        api.call("POST", "/api/onboarding/analytics", {})
        _, answer = api.call(
            "POST",
            "/api/onboarding/integration",
            {"client_id": api.client_id, "redirect_uri": f"{api.client_id}?auth_callback=1"},
        )
        assert "auth_code" in answer, answer
        _, steps = api.call("GET", "/api/onboarding", auth=False)
        assert all(step["done"] for step in steps), steps

    def wait_running(self, timeout: float = 90.0) -> None:
        """Wait for the end of the startup (core state RUNNING: every integration set up).

        HTTP answers long before; the frontend would greet with "Home Assistant has started!".
        """

        def running() -> bool:
            return self.call("GET", "/api/config").get("state") == "RUNNING"

        wait_for(running, timeout, lambda: "core state RUNNING")

    # -- the config flow, as the frontend's dialog drives it --

    def start_flow(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", "/api/config/config_entries/flow", {"handler": DOMAIN}
        )
        return result

    def flow_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/api/config/config_entries/flow/{flow_id}", data
        )
        return result

    def entries(self) -> list[dict[str, Any]]:
        entries = self.call("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
        return [entry for entry in entries if entry["domain"] == DOMAIN]

    def wait_entries_loaded(self, count: int = 1, timeout: float = 60.0) -> list[dict[str, Any]]:
        def loaded() -> list[dict[str, Any]] | None:
            entries = self.entries()
            if len(entries) == count and all(e["state"] == "loaded" for e in entries):
                return entries
            return None

        return wait_for(loaded, timeout, lambda: f"{count} loaded entries: {self.entries()}")

    # -- states, logbook, history --

    def state(self, entity_id: str) -> dict[str, Any] | None:
        status, state = self.api.call("GET", f"/api/states/{entity_id}", ok=(200, 404))
        return state if status == 200 else None

    def wait_state(
        self,
        entity_id: str,
        check: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            state = self.state(entity_id)
            return state if state is not None and check(state) else None

        return wait_for(
            ready, timeout, lambda: f"{entity_id} {what}; it is {self.state(entity_id)}"
        )

    def logbook(self, since: datetime, entity_id: str | None = None) -> list[dict[str, Any]]:
        params = {"end_time": now().isoformat(timespec="seconds")}
        if entity_id:
            params["entity"] = entity_id
        query = urllib.parse.urlencode(params)
        entries: list[dict[str, Any]] = self.call("GET", f"/api/logbook/{_iso(since)}?{query}")
        return entries

    def history(self, since: datetime, entity_id: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(
            {
                "filter_entity_id": entity_id,
                "end_time": now().isoformat(timespec="seconds"),
                "significant_changes_only": "0",
            }
        )
        answer = self.call("GET", f"/api/history/period/{_iso(since)}?{query}")
        return list(answer[0]) if answer else []

    def logbook_barrier(self, since: datetime, text: str, timeout: float = 30.0) -> None:
        """Write a logbook entry and wait until the logbook returns it.

        The recorder commits events in order: once this entry is readable, so is everything
        that happened before it.
        """
        self.call(
            "POST",
            "/api/services/logbook/log",
            {"name": "E2E", "message": text},
        )

        def seen() -> bool:
            return any(e.get("message") == text for e in self.logbook(since))

        wait_for(seen, timeout, lambda: f"the logbook entry {text!r}")


def now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return urllib.parse.quote(moment.isoformat(timespec="seconds"), safe="")


def wait_for[T](probe: Callable[[], T | None], timeout: float, what: Callable[[], str]) -> T:
    """Poll ``probe`` (every 0.25 s) until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what()}")
        time.sleep(0.25)


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
