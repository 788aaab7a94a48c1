"""Drive a local Home Assistant through its REST API for scripts/develop (standard library only).

Commands:
  wait-http    wait until the HTTP server answers (fails early if --pid has exited)
  setup        onboard (first run: user dev/dev), store a refresh token in --token-file,
               then create the iot_hub config entry through the config-flow REST API
  wait-states  poll /api/states until the given entities have numeric states (and those
               given with --known have a state other than unknown/unavailable)
  scan-log     fail on "Detected blocking call" or ERROR records of the iot_hub integration
"""

import argparse
from collections.abc import Iterable
import json
import os
from pathlib import Path
import re
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

DOMAIN = "iot_hub"
USER = {"name": "Dev", "username": "dev", "password": "dev", "language": "en"}
ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")
HTTP_TIMEOUT = 60.0


class DevError(Exception):
    """A step failed; the message says which and why."""


T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[dev_ha {time.monotonic() - T0:5.1f}s] {message}", flush=True)


class Api:
    """Minimal JSON/form client for one Home Assistant instance."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client_id = f"{self.url}/"
        self.token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        form: dict[str, str] | None = None,
        auth: bool = True,
        ok: Iterable[int] = (200, 201),
    ) -> tuple[int, Any]:
        """Return (status, decoded JSON or text); raise DevError on statuses not in ok."""
        headers = {"Accept": "application/json"}
        data: bytes | None = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        except (urllib.error.URLError, OSError) as err:
            raise DevError(f"{method} {path}: {err}") from err
        text = raw.decode("utf-8", "replace")
        try:
            payload: Any = json.loads(text) if text else None
        except json.JSONDecodeError:
            payload = text
        if status not in ok:
            raise DevError(f"{method} {path} -> HTTP {status}: {text[:2000]}")
        return status, payload


# --- wait-http --------------------------------------------------------------------------------


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the shell) still answers kill(0).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError, IndexError:
        return True
    return state != "Z"


def wait_http(api: Api, timeout: float, pid: int | None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(api.url + "/api/onboarding", timeout=5).close()
            return
        except urllib.error.HTTPError:
            return  # 404 (already onboarded) or 401: the server answers
        except (urllib.error.URLError, OSError) as err:
            last = err
        if not pid_alive(pid):
            raise DevError(f"Home Assistant (pid {pid}) exited before opening {api.url}")
        if time.monotonic() > deadline:
            raise DevError(f"{api.url} did not answer within {timeout:.0f} s ({last})")
        time.sleep(0.25)


# --- setup: onboarding + tokens ---------------------------------------------------------------


def exchange_code(api: Api, code: str) -> dict[str, Any]:
    _, tokens = api.call(
        "POST",
        "/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": api.client_id},
        auth=False,
    )
    return dict(tokens)


def save_token(path: Path, api: Api, refresh_token: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump({"client_id": api.client_id, "refresh_token": refresh_token}, file)
    path.chmod(0o600)
    say(f"refresh token stored in {path}")


def login_with_token_file(api: Api, path: Path) -> bool:
    try:
        stored = json.loads(path.read_text())
        form = {
            "grant_type": "refresh_token",
            "refresh_token": stored["refresh_token"],
            "client_id": stored["client_id"],
        }
    except (OSError, ValueError, KeyError, TypeError) as err:
        if path.exists():
            say(f"ignoring unreadable {path}: {err}")
        return False
    try:
        _, tokens = api.call("POST", "/auth/token", form=form, auth=False)
    except DevError as err:
        say(f"stored refresh token refused ({err}); logging in with the password instead")
        return False
    api.token = tokens["access_token"]
    say(f"logged in with the refresh token from {path}")
    return True


def login_with_password(api: Api, token_file: Path) -> None:
    _, flow = api.call(
        "POST",
        "/auth/login_flow",
        {
            "client_id": api.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": api.client_id,
        },
        auth=False,
    )
    _, result = api.call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"username": USER["username"], "password": USER["password"], "client_id": api.client_id},
        auth=False,
    )
    if result.get("type") != "create_entry":
        raise DevError(f"login as {USER['username']} failed: {json.dumps(result)}")
    tokens = exchange_code(api, result["result"])
    api.token = tokens["access_token"]
    save_token(token_file, api, tokens["refresh_token"])
    say(f"logged in as {USER['username']} with the password")


def onboarding_done_steps(api: Api) -> set[str] | None:
    """Return the steps already done, or None when onboarding is over (view not registered)."""
    status, steps = api.call("GET", "/api/onboarding", auth=False, ok=(200, 404))
    if status == 404:
        return None
    return {step["step"] for step in steps if step["done"]}


def onboard_and_login(api: Api, token_file: Path) -> None:
    done = onboarding_done_steps(api)
    if done is not None and "user" not in done:
        say(f"first run: onboarding, creating the owner {USER['username']} / {USER['password']}")
        _, answer = api.call(
            "POST", "/api/onboarding/users", {**USER, "client_id": api.client_id}, auth=False
        )
        tokens = exchange_code(api, answer["auth_code"])
        api.token = tokens["access_token"]
        save_token(token_file, api, tokens["refresh_token"])
        done.add("user")
    elif not login_with_token_file(api, token_file):
        login_with_password(api, token_file)
    if done is None:
        say("already onboarded")
        return
    for step in ONBOARDING_STEPS:
        if step in done:
            continue
        body: dict[str, Any] = {}
        if step == "integration":
            body = {"client_id": api.client_id, "redirect_uri": f"{api.client_id}?auth_callback=1"}
        api.call("POST", f"/api/onboarding/{step}", body)
        say(f"onboarding step {step}: done")


# --- setup: the iot_hub config entry ----------------------------------------------------------


def _expect(result: Any, kind: str, step_id: str | None, what: str) -> None:
    if (
        not isinstance(result, dict)
        or result.get("type") != kind
        or (step_id is not None and result.get("step_id") != step_id)
    ):
        raise DevError(
            f"{what}: expected a {kind!r} step {step_id or ''}, got:\n"
            + json.dumps(result, indent=2)
        )


def entries_settled(api: Api, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Return the iot_hub entries once none is still being set up (HTTP opens before that)."""
    deadline = time.monotonic() + timeout
    while True:
        _, entries = api.call("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
        ours = [e for e in entries if e.get("domain") == DOMAIN]
        pending = [
            e
            for e in ours
            if e.get("state") in {"not_loaded", "setup_in_progress"} and not e.get("disabled_by")
        ]
        if not pending or time.monotonic() > deadline:
            return ours
        time.sleep(0.5)


def ensure_entry(api: Api, broker: dict[str, Any], port_file: Path | None) -> None:
    entries = entries_settled(api)
    if entries:
        for entry in entries:
            state, reason = entry.get("state"), entry.get("reason")
            say(
                f"{DOMAIN} config entry exists: {entry.get('title')!r} (state {state}"
                + (f": {reason})" if reason else ")")
            )
            if state != "loaded":
                say(f"WARNING: the entry is {state}; see home-assistant.log")
        if port_file is not None and port_file.exists():
            recorded = port_file.read_text().strip()
            if recorded != str(broker["port"]):
                say(
                    f"WARNING: the existing entry was created for MQTT port {recorded}, the broker "
                    f"now runs on {broker['port']}; free port {recorded} or delete the entry"
                )
        return
    say(f"creating the {DOMAIN} config entry through the config flow")
    _, result = api.call(
        "POST",
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "show_advanced_options": True},
        ok=(200, 201, 400, 404),
    )
    if isinstance(result, dict) and "flow_id" not in result:
        raise DevError(f"starting the {DOMAIN} config flow failed: {json.dumps(result)}")
    _expect(result, "menu", "user", "first step of the config flow")
    options = result.get("menu_options")
    say(f"menu 'user' offers {options}")
    if "broker" not in (options or []):
        raise DevError(f"the menu has no 'broker' option: {json.dumps(result, indent=2)}")
    flow_path = f"/api/config/config_entries/flow/{result['flow_id']}"
    try:
        _, result = api.call("POST", flow_path, {"next_step_id": "broker"})
        _expect(result, "form", "broker", "after choosing 'broker'")
        fields = [f.get("name") for f in result.get("data_schema") or []]
        say(f"form 'broker' asks for {fields}")
        data = dict(broker)
        if fields:
            for key in [k for k in data if k not in fields]:
                say(f"note: the form has no field {key!r}; not sent")
                del data[key]
        _, result = api.call("POST", flow_path, data, ok=(200, 201, 400))
        _expect(result, "create_entry", None, "after submitting the broker form")
    except DevError:
        api.call("DELETE", flow_path, ok=(200, 404))
        raise
    say(f"config entry created: {result.get('title')!r}")
    if port_file is not None:
        port_file.write_text(f"{broker['port']}\n")


# --- wait-states / scan-log -------------------------------------------------------------------


def numeric(state: dict[str, Any] | None) -> float | None:
    if state is None:
        return None
    try:
        return float(state["state"])
    except KeyError, TypeError, ValueError:
        return None


def known(state: dict[str, Any] | None) -> bool:
    return state is not None and state.get("state") not in (None, "unknown", "unavailable")


def wait_states(
    api: Api, entities: list[str], timeout: float, known_entities: list[str] | None = None
) -> None:
    """Wait for numeric states of `entities` and known states of `known_entities`."""
    known_entities = known_entities or []
    wanted = [*entities, *known_entities]
    # Entities of the same devices (sensor.esp32_001_* for sensor.esp32_001_temperature...).
    prefixes = tuple(
        f"{domain}.{entity.split('.', 1)[1].split('_', 1)[0]}"
        for entity in wanted
        for domain in ("sensor", "binary_sensor")
    )
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    seen: dict[str, dict[str, Any]] = {}
    while True:
        _, states = api.call("GET", "/api/states")
        seen = {s["entity_id"]: s for s in states if s["entity_id"] in wanted}
        if all(numeric(seen.get(e)) is not None for e in entities) and all(
            known(seen.get(e)) for e in known_entities
        ):
            break
        if time.monotonic() > deadline:
            ours = sorted(
                f"{s['entity_id']}={s['state']}"
                for s in states
                if s["entity_id"].startswith(prefixes) or DOMAIN in s["entity_id"]
            )
            missing = {e: (seen[e]["state"] if e in seen else "<missing>") for e in wanted}
            raise DevError(
                f"after {timeout:.0f} s: {missing}; entities that look related: {ours or 'none'}"
            )
        time.sleep(2)
    say(f"states after {time.monotonic() - start:.1f} s:")
    for entity in wanted:
        state = seen[entity]
        unit = state.get("attributes", {}).get("unit_of_measurement", "")
        say(f"  {entity} = {state['state']} {unit}".rstrip())


RECORD_START = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (\w+) \(([^)]*)\) \[([^\]]+)\]"
)


def scan_log(path: Path) -> int:
    """Print the offending records; return how many there are."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as err:
        raise DevError(f"cannot read {path}: {err}") from err
    records: list[list[str]] = []
    for line in lines:
        if RECORD_START.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    bad: list[list[str]] = []
    other_errors = 0
    for record in records:
        head = record[0]
        match = RECORD_START.match(head)
        level, logger = (match.group(1), match.group(3)) if match else ("", "")
        text = "\n".join(record)
        if "Detected blocking call" in text:
            bad.append(record)
        elif level in {"ERROR", "CRITICAL"}:
            if logger.startswith(f"custom_components.{DOMAIN}") or DOMAIN in head:
                bad.append(record)
            else:
                other_errors += 1
    for record in bad:
        print("\n".join(record[:60]))
    say(
        f"{path}: {len(bad)} offending record(s); {other_errors} ERROR record(s) from other"
        " components (ignored)"
    )
    return len(bad)


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait-http")
    wait.add_argument("--url", required=True)
    wait.add_argument("--timeout", type=float, default=300.0)
    wait.add_argument("--pid", type=int)
    setup = sub.add_parser("setup")
    setup.add_argument("--url", required=True)
    setup.add_argument("--token-file", type=Path, required=True)
    setup.add_argument("--port-file", type=Path, help="records the MQTT port of the entry")
    setup.add_argument("--mqtt-host", default="127.0.0.1")
    setup.add_argument("--mqtt-port", type=int, required=True)
    setup.add_argument("--mqtt-username", default="iot")
    setup.add_argument("--mqtt-password", default="iot")
    states = sub.add_parser("wait-states")
    states.add_argument("--url", required=True)
    states.add_argument("--token-file", type=Path, required=True)
    states.add_argument("--timeout", type=float, default=120.0)
    states.add_argument(
        "--known",
        action="append",
        default=[],
        metavar="ENTITY",
        help="also wait for this entity to have any state but unknown/unavailable (repeatable)",
    )
    states.add_argument("entities", nargs="+", help="entities that must have numeric states")
    scan = sub.add_parser("scan-log")
    scan.add_argument("log", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "scan-log":
            return 1 if scan_log(args.log) else 0
        api = Api(args.url)
        if args.command == "wait-http":
            wait_http(api, args.timeout, args.pid)
        elif args.command == "setup":
            onboard_and_login(api, args.token_file)
            broker = {
                "host": args.mqtt_host,
                "port": args.mqtt_port,
                "transport": "tcp",
                "ws_path": "/mqtt",
                "tls": "off",
                "username": args.mqtt_username,
                "password": args.mqtt_password,
                "keepalive": 60,
                "protocol": "3.1.1",
            }
            ensure_entry(api, broker, args.port_file)
        elif args.command == "wait-states":
            if not login_with_token_file(api, args.token_file):
                login_with_password(api, args.token_file)
            wait_states(api, args.entities, args.timeout, args.known)
    except DevError as err:
        print(f"[dev_ha] FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
