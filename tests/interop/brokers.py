"""Other MQTT broker implementations for the interop tests: ejabberd, amqtt and aedes.

Each runs as a subprocess on 127.0.0.1, on a free port, in its own process group and
temp dir, with the same user and password as tests/broker.py's mosquitto. ``start``
waits for the broker's own "ready" line (bounded by START_TIMEOUT) and retries on a new
port when the port got taken meanwhile. Clients talk to it with mosquitto's CLIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import time
from typing import ClassVar

from ..helpers import CLI_TIMEOUT, run

ROOT = Path(__file__).resolve().parents[2]
AMQTT = ROOT / ".venv-amqtt" / "bin" / "amqtt"
AEDES_DIR = Path(__file__).resolve().parent / "aedes"
# Debian's ejabberd installs its Erlang applications there (ejabberdctl's ERL_LIBS).
EJABBERD_LIBS = next(
    (str(Path(p).parents[1]) for p in sorted(glob.glob("/usr/lib/*/ejabberd-*/ebin"))),
    "/usr/lib/x86_64-linux-gnu",
)
START_TIMEOUT = 20.0
START_ATTEMPTS = 5
STOP_TIMEOUT = 10.0
SETUP_HINT = "run scripts/setup"
_PORT_CLASH = re.compile(r"eaddrinuse|address already in use", re.IGNORECASE)


class BrokerStartError(RuntimeError):
    """The broker did not come up."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class InteropBroker:
    """A broker subprocess; subclasses say how to configure, run and recognise it."""

    name: ClassVar[str]
    ready: ClassVar[re.Pattern[str]]
    host = "127.0.0.1"
    username = "iot"
    password = "secret"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.output_path = directory / "output.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"<{self.name} {self.host}:{self.port}>"

    @property
    def port_password(self) -> int:
        """The listener with a password (tests/helpers.py's entity ids use this name)."""
        return self.port

    # ------------------------------------------------------------ subclass hooks

    def missing(self) -> str | None:
        """Return why the broker cannot run here (not installed), or None."""
        raise NotImplementedError

    def command(self) -> tuple[list[str], dict[str, str]]:
        """Write the configuration for ``self.port``; return the command and extra env."""
        raise NotImplementedError

    # ------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """Return everything the broker printed so far."""
        if not self.output_path.exists():
            return ""
        return self.output_path.read_text(errors="replace")

    def start(self) -> None:
        """Start on a free port; retry on a new one if it got taken meanwhile."""
        if (why := self.missing()) is not None:
            raise BrokerStartError(f"{self.name} is not installed ({why}): {SETUP_HINT}")
        failures: list[str] = []
        for _ in range(START_ATTEMPTS):
            self.port = _free_port()
            outcome, output = self._launch()
            if outcome == "running":
                return
            self.kill()
            failures.append(output)
            if outcome != "port clash":
                break
        raise BrokerStartError(
            f"{self.name} did not start after {len(failures)} attempt(s); "
            f"last output:\n{failures[-1][-4000:]}"
        )

    def _launch(self) -> tuple[str, str]:
        """Spawn the broker; return ("running" | "port clash" | "failed", its output)."""
        args, env = self.command()
        with self.output_path.open("wb") as out:
            self._process = subprocess.Popen(
                args,
                cwd=self.directory,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Own process group: kill() reaps helpers too (Erlang's port programs).
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            exited = self._process.poll() is not None
            output = self.log()
            if _PORT_CLASH.search(output):
                return "port clash", output
            if self.ready.search(output) and not exited:
                return "running", output
            if exited:
                return "failed", output + f"\n(exit code {self._process.returncode})"
            if time.monotonic() > deadline:
                return "failed", output + f"\n(not ready after {START_TIMEOUT} s)"
            time.sleep(0.02)

    def kill(self) -> None:
        """Kill the broker's process group (SIGKILL) and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    # ------------------------------------------------------------ clients

    def cli_args(self) -> list[str]:
        """The mosquitto CLI arguments that reach this broker with its credentials."""
        return ["-h", self.host, "-p", str(self.port), "-u", self.username, "-P", self.password]

    async def publish(
        self, topic: str, payload: str, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish with ``mosquitto_pub``; assert it succeeded."""
        args = [*self.cli_args(), "-t", topic, "-q", str(qos), "-m", payload]
        if retain:
            args.append("-r")
        result = await run("mosquitto_pub", *args)
        if result.returncode != 0:
            raise AssertionError(
                f"mosquitto_pub to {topic!r} on {self.name} exited with "
                f"{result.returncode}: {result.stderr.strip()}"
            )

    async def publish_burst(self, topic: str, payloads: list[str]) -> None:
        """Publish QoS 1 messages back to back on one connection, then disconnect at once.

        What a battery device does between two deep sleeps. ``mosquitto_pub -l`` sends
        one message per stdin line and exits once every PUBACK came back.
        """
        args = [*self.cli_args(), "-t", topic, "-q", "1", "-l"]
        proc = await asyncio.create_subprocess_exec(
            "mosquitto_pub",
            *args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        lines = "".join(f"{payload}\n" for payload in payloads).encode()
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(lines), CLI_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"mosquitto_pub -l to {topic!r} timed out") from None
        assert proc.returncode == 0, stderr.decode(errors="replace")


class Ejabberd(InteropBroker):
    """ejabberd's mod_mqtt, run by ``erl`` directly as the current user (even root).

    ``ejabberdctl`` is not used: it switches to the ``ejabberd`` system user and its
    system-wide spool, log and config. Without ``-sname`` the node is not
    distributed (``nonode@nohost``): no epmd, no node-name clash between parallel
    tests. The user is registered in the private Mnesia spool once ejabberd runs.
    """

    name = "ejabberd"
    ready = re.compile(r"IOT_HUB_READY")

    def missing(self) -> str | None:
        """Return why ejabberd cannot run here, or None."""
        if shutil.which("erl") is None:
            return "no erl"
        if not glob.glob(f"{EJABBERD_LIBS}/ejabberd-*/ebin/mod_mqtt.beam"):
            return f"no mod_mqtt.beam under {EJABBERD_LIBS}"
        return None

    def command(self) -> tuple[list[str], dict[str, str]]:
        """Write ejabberd.yml; return the ``erl`` command line."""
        spool = self.directory / "spool"
        spool.mkdir(exist_ok=True)
        config = self.directory / "ejabberd.yml"
        config.write_text(
            "\n".join(
                [
                    "hosts: [localhost]",
                    "loglevel: info",
                    "log_rotate_count: 0",
                    "certfiles: []",
                    "auth_method: internal",
                    "auth_password_format: plain",
                    "listen:",
                    f"  - port: {self.port}",
                    f'    ip: "{self.host}"',
                    "    module: mod_mqtt",
                    "modules:",
                    "  mod_mqtt: {}",
                    "",
                ]
            )
        )
        register = (
            "{ok, _} = application:ensure_all_started(ejabberd), "
            f'R = ejabberd_auth:try_register(<<"{self.username}">>, <<"localhost">>, '
            f'<<"{self.password}">>), io:format("IOT_HUB_READY ~p~n", [R]).'
        )
        args = ["erl", "-noinput", "-noshell", "-mnesia", "dir", f'"{spool}"', "-eval", register]
        env = {
            "EJABBERD_CONFIG_PATH": str(config),
            "EJABBERD_LOG_PATH": str(self.directory / "ejabberd.log"),
            "ERL_LIBS": EJABBERD_LIBS,
            "ERL_CRASH_DUMP_BYTES": "0",
            "HOME": str(self.directory),
        }
        return args, env


class Amqtt(InteropBroker):
    """amqtt (PyPI), from its own venv (.venv-amqtt), with a YAML config and password file."""

    name = "amqtt"
    ready = re.compile(r"Listener 'default' bind to")
    # argon2id of "secret" with cheap parameters (pwdlib's Argon2Hasher(time_cost=1,
    # memory_cost=1024, parallelism=1)): amqtt verifies the hash inside its event loop, and
    # its default parameters stall the whole broker for 0.3-1.2 s at every CONNECT here.
    PASSWORD_HASH = (
        "$argon2id$v=19$m=1024,t=1,p=1$zWWa2E8rV19Vrp1xPkw+/A"
        "$S24bOzvHkMgLvnyrEljG0ZTDwaRrUrl92cw/dCn15Qo"
    )

    def missing(self) -> str | None:
        """Return why amqtt cannot run here, or None."""
        return None if AMQTT.exists() else f"no {AMQTT}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        """Write amqtt.yaml and the password file; return the ``amqtt`` command line."""
        passwd = self.directory / "passwd"
        passwd.write_text(f"{self.username}:{self.PASSWORD_HASH}\n")
        config = self.directory / "amqtt.yaml"
        config.write_text(
            "\n".join(
                [
                    "listeners:",
                    "  default:",
                    "    type: tcp",
                    f"    bind: {self.host}:{self.port}",
                    "plugins:",
                    "  amqtt.plugins.authentication.FileAuthPlugin:",
                    f"    password_file: {passwd}",
                    "",
                ]
            )
        )
        return [str(AMQTT), "-c", str(config)], {}


class Aedes(InteropBroker):
    """aedes (npm) behind the tiny server of tests/interop/aedes/server.mjs."""

    name = "aedes"
    ready = re.compile(r"aedes listening on")

    def missing(self) -> str | None:
        """Return why aedes cannot run here, or None."""
        if shutil.which("node") is None:
            return "no node"
        if not (AEDES_DIR / "node_modules" / "aedes" / "package.json").exists():
            return f"no {AEDES_DIR}/node_modules (npm ci)"
        return None

    def command(self) -> tuple[list[str], dict[str, str]]:
        """Return the ``node server.mjs`` command line."""
        server = AEDES_DIR / "server.mjs"
        args = ["node", str(server), self.host, str(self.port), self.username, self.password]
        return args, {}


BROKERS: dict[str, type[InteropBroker]] = {b.name: b for b in (Ejabberd, Amqtt, Aedes)}
