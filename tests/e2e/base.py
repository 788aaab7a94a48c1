"""What every part of the end-to-end harness shares: paths, dev_ha, timings, waiting.

``scripts/dev_ha.py`` (standard library only) is imported from its file: its REST and websocket
transport, the onboarding owner and the log scan are the ones ``scripts/develop`` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import importlib.util
import os
from pathlib import Path
import socket
import sys
import time
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "iot_hub"
# The venv's hass: the one next to the Python running the tests.
HASS = Path(sys.executable).with_name("hass")


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


# --- waiting ------------------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


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
