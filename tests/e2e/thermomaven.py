"""The fake ThermoMaven cloud of ``tests/thermomaven_cloud`` for a real ``hass``.

The fake cloud is asyncio code (its HTTPS server, its own MQTT link to its mutual-TLS
mosquitto); the end-to-end tests are synchronous (REST polling, Playwright's sync API).
``CloudThread`` runs the very same ``FakeThermoMavenCloud`` on an event loop of its own, in a
background thread, and lets a test act on it (``run``, ``report``). ``override()`` is how the
``hass`` process learns where the cloud is: the test-only component in
``cloud_override/iot_hub_e2e_cloud`` with the cloud's endpoints and CA in its YAML (see there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
from pathlib import Path
import threading
from typing import Any

from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from ..thermomaven_cloud.devices import WT09_ID
from ..thermomaven_cloud.records import RecordedCommand
from .harness import Client, Extra, Phases

OVERRIDE = Path(__file__).with_name("cloud_override") / "iot_hub_e2e_cloud"
# The fake account's thermometer with four probes (Smoker G4, a WT09) and its entity ids.
G4_ID = WT09_ID
G4 = "smoker_g4"
ACCOUNT = "thermomaven_u_example_com"
ACCOUNT_TITLE = "ThermoMaven u…@example.com"
# The fake cloud serves the US data centre's countries.
COUNTRY = "US"
COUNTRY_NAME = "United States"


def f_to_c(tenths_f: int) -> float:
    """Tenths of °F (how the fake cloud keeps temperatures) in °C."""
    return (tenths_f / 10 - 32) * 5 / 9


class CloudThread:
    """A started ``FakeThermoMavenCloud`` on an event loop in a background thread."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="fake-thermomaven-cloud", daemon=True
        )
        self._cloud: FakeThermoMavenCloud | None = None

    @property
    def cloud(self) -> FakeThermoMavenCloud:
        """The cloud itself: read its records, act on it through ``run`` only."""
        assert self._cloud is not None, "not started"
        return self._cloud

    def start(self) -> None:
        """Generate the cloud's keys, start its broker and HTTPS server."""
        self.thread.start()
        # The keys (and files) are made here; the cloud's asyncio objects bind at first use.
        self._cloud = FakeThermoMavenCloud(self.directory)
        self.run(lambda cloud: cloud.start())

    def stop(self) -> None:
        """Stop the cloud and the thread (idempotent, whatever happened before)."""
        if self.thread.is_alive():
            try:
                if self._cloud is not None:
                    self.run(lambda cloud: cloud.stop())
                # Its executor's threads (asyncio_N) must end too: the test checks for leftovers.
                asyncio.run_coroutine_threadsafe(
                    self.loop.shutdown_default_executor(), self.loop
                ).result(30)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(30)
        if not self.thread.is_alive() and not self.loop.is_closed():
            self.loop.close()

    def run[T](
        self, work: Callable[[FakeThermoMavenCloud], Awaitable[T]], timeout: float = 30.0
    ) -> T:
        """Run ``work(cloud)`` on the cloud's loop; return its result."""

        async def call() -> T:
            return await work(self.cloud)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout)

    def report(self, device_id: str, color: str, **changes: Any) -> dict[str, Any]:
        """Change a probe (``Probe`` attributes), then the thermometer reports; return it."""

        async def work(cloud: FakeThermoMavenCloud) -> dict[str, Any]:
            probe = cloud.probe(device_id, color)
            for name, value in changes.items():
                assert hasattr(probe, name), name
                setattr(probe, name, value)
            return await cloud.publish_status(device_id)

        return self.run(work)

    def commands(self) -> list[RecordedCommand]:
        """The commands ``/app/command/send`` received so far (a copy)."""

        async def work(cloud: FakeThermoMavenCloud) -> list[RecordedCommand]:
            return list(cloud.commands)

        return self.run(work)

    def override(self) -> Extra:
        """The ``iot_hub_e2e_cloud`` component and its YAML: this cloud's endpoints and CA."""
        cloud = self.cloud
        yaml = "\n".join(
            [
                "# The fake ThermoMaven cloud (tests/e2e/thermomaven.py).",
                "iot_hub_e2e_cloud:",
                f"  base_url: {json.dumps(cloud.base_url)}",
                f"  mqtt_host: {json.dumps(cloud.mqtt_host)}",
                f"  mqtt_port: {cloud.mqtt_port}",
                "  ca_pem: |",
                *(f"    {line}" for line in cloud.ca_pem.strip().splitlines()),
                "",
            ]
        )
        return Extra(source=OVERRIDE, yaml=yaml)


def started_cloud(directory: Path, phases: Phases) -> CloudThread:
    """A started ``CloudThread`` (stopped again if starting fails)."""
    thread = CloudThread(directory)
    with phases("fake ThermoMaven cloud: keys, mosquitto, HTTPS"):
        try:
            thread.start()
        except BaseException:
            thread.stop()
            raise
    cloud = thread.cloud
    phases.say(f"fake ThermoMaven cloud: REST {cloud.base_url}, MQTT :{cloud.mqtt_port}")
    return thread


@dataclass(frozen=True)
class Account:
    """What a person types on the ThermoMaven account screen."""

    email: str
    password: str
    country: str = COUNTRY

    @classmethod
    def of(cls, cloud: FakeThermoMavenCloud) -> Account:
        return cls(cloud.email, cloud.password)


def add_account_through_flow(client: Client, account: Account) -> dict[str, Any]:
    """Menu -> ThermoMaven account -> email, password, country, as the frontend's dialog does."""
    result = client.start_flow()
    assert result["type"] == "menu", result
    assert "thermomaven" in result["menu_options"], result
    result = client.flow_step(result["flow_id"], {"next_step_id": "thermomaven"})
    assert result["type"] == "form", result
    assert result["step_id"] == "thermomaven"
    assert [field["name"] for field in result["data_schema"]] == ["email", "password", "country"]
    result = client.flow_step(
        result["flow_id"],
        {"email": account.email, "password": account.password, "country": account.country},
    )
    assert result["type"] == "create_entry", result
    assert result["title"] == ACCOUNT_TITLE  # no full email in titles
    entry: dict[str, Any] = result["result"]
    return entry
