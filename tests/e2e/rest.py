"""Home Assistant's REST and websocket APIs, as the frontend and a user use them.

The transport is ``scripts/dev_ha.py``'s (see ``base``); everything goes through the outside,
with the token of the owner created by onboarding.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
import urllib.parse

from .base import DOMAIN, USER, dev_ha, now, wait_for


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
            config: dict[str, Any] = self.call("GET", "/api/config")
            return config.get("state") == "RUNNING"

        wait_for(running, timeout, lambda: "core state RUNNING")

    # -- the config flow, as the frontend's dialog drives it --

    def start_flow(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", "/api/config/config_entries/flow", {"handler": DOMAIN}
        )
        return result

    def flow_step(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Submit a step; a connection test shown as progress is waited for (as the dialog does)."""
        result: dict[str, Any] = self.call(
            "POST", f"/api/config/config_entries/flow/{flow_id}", data
        )
        if result["type"] == "progress":
            assert result["progress_action"] == "connect", result
        past: dict[str, Any] = dev_ha.past_progress(
            self.api, f"/api/config/config_entries/flow/{flow_id}", result
        )
        return past

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

    def value(self, entity_id: str) -> str:
        """The entity's state (it must exist)."""
        state = self.state(entity_id)
        assert state is not None, f"{entity_id} does not exist"
        return str(state["state"])

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


def _iso(moment: datetime) -> str:
    return urllib.parse.quote(moment.isoformat(timespec="seconds"), safe="")
