"""A real Mosquitto for the end-to-end tests: one password listener, sessions kept."""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import subprocess
import time
from typing import Any

from .base import free_port, port_free

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


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
