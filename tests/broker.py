"""A real Mosquitto broker for tests, with password, TLS, mutual-TLS and websocket listeners."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator, Sequence
import contextlib
import glob
import hashlib
import json
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from .certs import Pki, generate_pki
from .mosquitto_pub import mosquitto_pub

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
# Shipped with mosquitto 2.x (Debian: /usr/lib/<arch>/); needed for ``acl=`` only.
DYNSEC_PLUGIN = next(
    iter(sorted(glob.glob("/usr/lib/*/mosquitto_dynamic_security.so"))),
    "/usr/lib/mosquitto_dynamic_security.so",
)
DYNSEC_ITERATIONS = 101  # what ``mosquitto_ctrl dynsec init`` uses
START_TIMEOUT = 10.0
START_ATTEMPTS = 5
STOP_TIMEOUT = 10.0

_RUNNING = re.compile(r"mosquitto version \S+ running")
# One line per client connection: a client aborting the TLS handshake early is logged
# "Client connection from ... failed" instead of "New connection from ...".
_CONNECTION = re.compile(r"New connection from \S+ on port|Client connection from \S+ failed")
# Both the plain socket listeners and libwebsockets report a port clash this way
# (the latter only as "Unable to create websockets listener").
_PORT_CLASH = re.compile(r"Address already in use|Unable to create websockets listener")


class BrokerStartError(RuntimeError):
    """Mosquitto did not come up."""


def _free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports that were free a moment ago."""
    # Hold all sockets open until every port is chosen so the ports differ.
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


class Mosquitto:
    """A Mosquitto subprocess listening on four loopback ports.

    ``acl``: topic filters the user may subscribe, publish and receive on the
    password listener; a SUBSCRIBE to anything else is refused (SUBACK 0x80 with
    MQTT 3.1.1, 0x87 with MQTT 5). mosquitto's ``acl_file`` cannot do that: it
    grants every SUBSCRIBE and only filters deliveries. So that listener then uses
    the dynamic-security plugin, which also checks the password there (with the
    same user and password, but ``password_file`` no longer applies to it).

    ``expired_server_cert``: the TLS and mutual-TLS listeners serve a server
    certificate that expired yesterday (signed by the test CA). It is read at every
    start: set it to False, then ``stop`` and ``restart``, and the broker's admin has
    renewed the certificate.
    """

    host = "127.0.0.1"
    username = "iot"
    password = "secret"

    def __init__(
        self,
        pki: Pki,
        directory: Path,
        *,
        acl: Sequence[str] | None = None,
        expired_server_cert: bool = False,
    ) -> None:
        self.pki = pki
        self.directory = directory
        self.acl = tuple(acl) if acl is not None else None
        self.expired_server_cert = expired_server_cert
        self.dynsec_path = directory / "dynamic-security.json"
        self.config_path = directory / "mosquitto.conf"
        self.log_path = directory / "mosquitto.log"
        self.stderr_path = directory / "mosquitto.stderr"
        self.password_file = directory / "passwd"
        self.port_password = 0
        self.port_tls = 0
        self.port_mtls = 0
        self.port_ws = 0
        self._process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mosquitto_passwd",
                "-b",
                "-c",
                str(self.password_file),
                self.username,
                self.password,
            ],
            check=True,
            capture_output=True,
        )

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        """Return everything the broker logged so far (log file, then stderr)."""
        return "".join(
            path.read_text(errors="replace")
            for path in (self.log_path, self.stderr_path)
            if path.exists()
        )

    def log_mark(self) -> int:
        """Return the current end of the log file: pass it to `wait_for_connections`."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    async def wait_for_connections(self, mark: int, count: int) -> int:
        """Return the client connections logged after `mark` once there are `count`.

        Polls the log, which may lag behind what the client saw.
        """
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                with self.log_path.open("rb") as log:
                    log.seek(mark)
                    logged = len(_CONNECTION.findall(log.read().decode(errors="replace")))
                if logged >= count:
                    return logged
                await asyncio.sleep(0.01)

    def start(self) -> None:
        """Start on fresh ports, retrying with new ones if a port got taken meanwhile."""
        self._start(new_ports=True)

    def restart(self) -> None:
        """Start again on the same ports (after ``stop`` or ``kill``)."""
        self._start(new_ports=False)

    def stop(self) -> None:
        """Terminate gracefully (SIGTERM) and wait for the process to exit."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """Kill abruptly (SIGKILL), like a crash or power loss, and wait."""
        self._end(signal.SIGKILL)

    async def publish(
        self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish with ``mosquitto_pub`` on the password listener; assert it succeeded."""
        connection = ["-h", self.host, "-p", str(self.port_password)]
        connection += ["-u", self.username, "-P", self.password]
        await mosquitto_pub(connection, topic, payload, qos=qos, retain=retain)

    def _write_dynsec(self, allowed: Sequence[str]) -> None:
        """Write the dynamic-security file: the user may use ``allowed`` and nothing else."""
        salt = os.urandom(12)
        digest = hashlib.pbkdf2_hmac("sha512", self.password.encode(), salt, DYNSEC_ITERATIONS)
        kinds = (
            "subscribePattern",
            "unsubscribePattern",
            "publishClientSend",
            "publishClientReceive",
        )
        acls = [
            {"acltype": kind, "topic": topic, "allow": True} for topic in allowed for kind in kinds
        ]
        config = {
            "clients": [
                {
                    "username": self.username,
                    "password": base64.b64encode(digest).decode(),
                    "salt": base64.b64encode(salt).decode(),
                    "iterations": DYNSEC_ITERATIONS,
                    "roles": [{"rolename": "allowed"}],
                }
            ],
            "roles": [{"rolename": "allowed", "acls": acls}],
            "defaultACLAccess": {
                "publishClientSend": False,
                "publishClientReceive": False,
                "subscribe": False,
                "unsubscribe": True,
            },
        }
        self.dynsec_path.write_text(json.dumps(config, indent=1))
        self.dynsec_path.chmod(0o600)

    def _password_auth(self) -> list[str]:
        """Authentication (and, with ``acl``, access control) of the password listener."""
        if self.acl is None:
            return [f"password_file {self.password_file}"]
        self._write_dynsec(self.acl)
        return [f"plugin {DYNSEC_PLUGIN}", f"plugin_opt_config_file {self.dynsec_path}"]

    def _write_config(self) -> None:
        pki = self.pki
        password_file = f"password_file {self.password_file}"
        expired = self.expired_server_cert
        tls = [
            f"cafile {pki.ca_cert}",
            f"certfile {pki.expired_server_cert if expired else pki.server_cert}",
            f"keyfile {pki.expired_server_key if expired else pki.server_key}",
        ]
        lines = [
            "per_listener_settings true",
            "persistence false",
            f"log_dest file {self.log_path}",
            "log_type all",
            # As root, mosquitto would switch to the "mosquitto" user, which cannot
            # read our 0600 password and key files.
            *(["user root"] if os.geteuid() == 0 else []),
            "",
            f"listener {self.port_password} {self.host}",
            "allow_anonymous false",
            *self._password_auth(),
            "",
            f"listener {self.port_tls} {self.host}",
            "allow_anonymous false",
            password_file,
            *tls,
            "",
            f"listener {self.port_mtls} {self.host}",
            "allow_anonymous false",
            *tls,
            "require_certificate true",
            "use_identity_as_username true",
            "",
            f"listener {self.port_ws} {self.host}",
            "protocol websockets",
            "allow_anonymous false",
            password_file,
            "",
        ]
        self.config_path.write_text("\n".join(lines))

    def _start(self, *, new_ports: bool) -> None:
        if self.running:
            raise BrokerStartError("mosquitto is already running")
        self._reap()
        failures: list[str] = []
        for _ in range(START_ATTEMPTS):
            if new_ports or not self.port_password:
                self.port_password, self.port_tls, self.port_mtls, self.port_ws = _free_ports(4)
            self._write_config()
            outcome, output = self._launch()
            if outcome == "running":
                return
            self._end(signal.SIGKILL)
            failures.append(output)
            if outcome != "port clash":
                break
            if not new_ports:
                # Same ports requested: give whoever holds them a moment to let go.
                time.sleep(0.2)
        raise BrokerStartError(
            f"mosquitto did not start after {len(failures)} attempt(s); "
            f"last output:\n{failures[-1]}"
        )

    def _launch(self) -> tuple[str, str]:
        """Spawn mosquitto; return ("running" | "port clash" | "failed", new output)."""
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.stderr_path.open("wb") as stderr:
            self._process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                # Own process group: a Ctrl-C aimed at pytest must not hit the broker first.
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            exited = self._process.poll() is not None
            output = self._new_output(log_offset)
            if _RUNNING.search(output) and not exited:
                return "running", output
            if _PORT_CLASH.search(output):
                return "port clash", output
            if exited:
                return "failed", output + f"\n(exit code {self._process.returncode})"
            if time.monotonic() > deadline:
                return "failed", output + f"\n(not running after {START_TIMEOUT} s)"
            time.sleep(0.02)

    def _new_output(self, log_offset: int) -> str:
        text = ""
        if self.log_path.exists():
            with self.log_path.open("rb") as log:
                log.seek(log_offset)
                text = log.read().decode(errors="replace")
        if self.stderr_path.exists():
            text += self.stderr_path.read_text(errors="replace")
        return text

    def _end(self, sig: signal.Signals) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._reap()

    def _reap(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            self._process = None


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Session-wide test PKI (files only, no sockets)."""
    return generate_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mosquitto(socket_enabled: None, pki: Pki, tmp_path: Path) -> Iterator[Mosquitto]:
    """A running broker, killed after the test whatever its outcome."""
    broker = Mosquitto(pki, tmp_path / "mosquitto")
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()


@pytest.fixture
def make_mosquitto(
    socket_enabled: None, pki: Pki, tmp_path: Path
) -> Iterator[Callable[..., Mosquitto]]:
    """Start brokers with options (``acl=...``, ``expired_server_cert=...``); all killed after."""
    brokers: list[Mosquitto] = []

    def factory(
        *, acl: Sequence[str] | None = None, expired_server_cert: bool = False
    ) -> Mosquitto:
        directory = tmp_path / f"mosquitto-{len(brokers)}"
        broker = Mosquitto(pki, directory, acl=acl, expired_server_cert=expired_server_cert)
        brokers.append(broker)
        broker.start()
        return broker

    try:
        yield factory
    finally:
        for broker in brokers:
            broker.kill()
