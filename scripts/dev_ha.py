"""Drive a local Home Assistant through its REST API for scripts/develop (standard library only).

Commands:
  http-store   before Home Assistant starts: write its HTTP configuration (127.0.0.1, --port)
               as the confirmed ("stable") one into <config>/.storage/http, nothing pending
  wait-http    wait until the HTTP server answers (fails early if --pid has exited)
  setup        onboard (first run: user dev/dev), store a refresh token in --token-file,
               make sure no HTTP configuration is pending (promote ours if it is), then
               create the iot_hub config entry through the config-flow REST API
  check-http   assert through the websocket command http/config that nothing is pending and
               the confirmed configuration is 127.0.0.1:--port, and that the process --pid
               listens on loopback addresses only (nothing on 0.0.0.0 or ::)
  http-config  print the answer of the websocket command http/config (--promote: then send
               http/config/promote and print the answer again)
  wait-states  poll /api/states until the given entities have numeric states (and those
               given with --known have a state other than unknown/unavailable)
  scan-log     fail on "Detected blocking call" or ERROR records of the iot_hub integration
"""

import argparse
import base64
from collections.abc import Iterable
import contextlib
from datetime import UTC, datetime
import hashlib
import ipaddress
import json
import os
from pathlib import Path
import re
import socket
import struct
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
        result = past_progress(api, flow_path, result)
        _expect(result, "form", "families", "after the connection test")
        say(f"topic families seen: {result.get('description_placeholders')}")
        # Every family on: the simulator publishes all three.
        _, result = api.call("POST", flow_path, {}, ok=(200, 201, 400))
        _expect(result, "create_entry", None, "after the topic families")
    except DevError:
        api.call("DELETE", flow_path, ok=(200, 404))
        raise
    say(f"config entry created: {result.get('title')!r}")
    if port_file is not None:
        port_file.write_text(f"{broker['port']}\n")


def past_progress(api: Api, flow_path: str, result: Any) -> Any:
    """Wait out the connection test's progress screen (up to 10 s, then 3 s of listening)."""
    deadline = time.monotonic() + 60
    while isinstance(result, dict) and result.get("type") == "progress":
        if time.monotonic() > deadline:
            raise DevError("the connection test did not finish within 60 s")
        time.sleep(0.5)
        _, result = api.call("GET", flow_path)
    return result


# --- the HTTP configuration: confirmed from the start, loopback only ---------------------------
#
# Home Assistant (2026.10+) keeps its HTTP settings in .storage/http as a "stable" (confirmed)
# and a "pending" slot. An `http:` section in configuration.yaml is migrated there once, as
# *pending*: a trial that a person must confirm (websocket http/config/promote) within 5
# minutes, or Home Assistant marks it "not_promoted", restarts and serves the stable slot,
# by default 0.0.0.0 + :: port 8123 (every interface). So the development and benchmark
# instances get no `http:` section; their settings are written as the stable slot before
# Home Assistant starts (write_http_store), and checked over the websocket once it runs.

LOOPBACK_HOST = "127.0.0.1"


def write_http_store(config_dir: Path, port: int) -> Path:
    """Write <config_dir>/.storage/http: 127.0.0.1:port confirmed, nothing pending.

    Built with Home Assistant's own schema and storage version (its defaults fill the rest),
    so the file is exactly what http/config/promote would have stored. Home Assistant must
    not be running (it would overwrite the file).
    """
    from homeassistant.components.http import config as http_config

    stable = {
        **http_config.HTTP_STORAGE_SCHEMA({"server_host": [LOOPBACK_HOST], "server_port": port}),
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    document = {
        "version": http_config.STORAGE_VERSION,
        "minor_version": http_config.STORAGE_MINOR_VERSION,
        "key": http_config.STORAGE_KEY,
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    path = storage / http_config.STORAGE_KEY
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(document, file, indent=2)
    tmp.replace(path)
    say(f"{path}: confirmed HTTP configuration {LOOPBACK_HOST}:{port}, nothing pending")
    return path


class WebSocket:
    """Minimal client of Home Assistant's websocket API (RFC 6455 text frames, standard library)."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, api: Api, timeout: float = HTTP_TIMEOUT) -> None:
        if not api.token:
            raise DevError("the websocket needs an access token (log in first)")
        parts = urllib.parse.urlsplit(api.url)
        if parts.scheme != "http" or parts.hostname is None:
            raise DevError(f"only plain http:// URLs are supported, not {api.url}")
        host, port = parts.hostname, parts.port or 80
        self._next_id = 0
        self._buffer = b""
        try:
            self._sock = socket.create_connection((host, port), timeout)
        except OSError as err:
            raise DevError(f"websocket to {host}:{port}: {err}") from err
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            (
                f"GET /api/websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if not head.startswith("HTTP/1.1 101") or accept not in head:
            raise DevError(f"websocket handshake refused: {head.splitlines()[0] if head else ''}")
        hello = self.receive()
        if hello.get("type") != "auth_required":
            raise DevError(f"websocket: expected auth_required, got {hello}")
        self.send({"type": "auth", "access_token": api.token})
        answer = self.receive()
        if answer.get("type") != "auth_ok":
            raise DevError(f"websocket authentication failed: {answer}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send_frame(0x8, struct.pack("!H", 1000))
        self._sock.close()

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _read_until(self, end: bytes) -> bytes:
        while end not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise DevError("websocket: connection closed by Home Assistant")
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(end)
        return head

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise DevError("websocket: connection closed by Home Assistant")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._sock.sendall(header + mask + masked)

    def send(self, message: dict[str, Any]) -> None:
        self._send_frame(0x1, json.dumps(message).encode())

    def receive(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._read(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", self._read(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", self._read(8))
            payload = self._read(size)  # frames from the server are not masked
            if opcode == 0x8:
                raise DevError(f"websocket closed by Home Assistant: {payload[2:].decode()!r}")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:
                    decoded: dict[str, Any] = json.loads(message)
                    return decoded

    def command(self, kind: str, **fields: Any) -> Any:
        """Send one command; return its result, raise DevError with its error."""
        self._next_id += 1
        self.send({"id": self._next_id, "type": kind, **fields})
        while True:
            answer = self.receive()
            if answer.get("id") == self._next_id and answer.get("type") == "result":
                break
        if not answer.get("success"):
            raise DevError(f"websocket {kind}: {answer.get('error')}")
        return answer.get("result")


def describe_http_config(answer: dict[str, Any]) -> str:
    def slot(config: dict[str, Any] | None) -> str:
        if config is None:
            return "None"
        hosts = ",".join(config.get("server_host") or ["<all interfaces>"])
        error = f" error={config['error']}" if config.get("error") else ""
        return f"{hosts}:{config.get('server_port')}{error}"

    return (
        f"active_config_type={answer.get('active_config_type')}"
        f" stable={slot(answer.get('stable'))} pending={slot(answer.get('pending'))}"
        f" revert_at={answer.get('revert_at')}"
    )


def http_config_problems(answer: dict[str, Any], port: int) -> list[str]:
    problems = []
    if answer.get("pending") is not None:
        problems.append(f"a pending HTTP configuration: {answer['pending']}")
    if answer.get("revert_at") is not None:
        problems.append(f"a revert (restart) is scheduled at {answer['revert_at']}")
    if answer.get("active_config_type") != "stable":
        problems.append(f"running on the {answer.get('active_config_type')!r} configuration")
    stable = answer.get("stable") or {}
    if stable.get("server_host") != [LOOPBACK_HOST] or stable.get("server_port") != port:
        problems.append(
            f"the confirmed configuration is {stable.get('server_host') or 'all interfaces'}"
            f" port {stable.get('server_port')}, not [{LOOPBACK_HOST!r}] port {port}"
        )
    return problems


def ensure_http_confirmed(api: Api, port: int) -> None:
    """Promote our pending HTTP configuration if there is one; fail unless all is confirmed.

    Nothing is pending when write_http_store ran before the start; this also covers a
    configuration dir written by an older scripts/develop (an `http:` section in YAML).
    """
    with WebSocket(api) as ws:
        answer = ws.command("http/config")
        pending = answer.get("pending")
        if (
            pending is not None
            and pending.get("error") is None
            and answer.get("active_config_type") == "pending"
            and pending.get("server_host") == [LOOPBACK_HOST]
            and pending.get("server_port") == port
        ):
            say(f"http/config before: {describe_http_config(answer)}")
            ws.command("http/config/promote")
            answer = ws.command("http/config")
            say(f"http/config after http/config/promote: {describe_http_config(answer)}")
    problems = http_config_problems(answer, port)
    if problems:
        raise DevError("HTTP configuration not confirmed: " + "; ".join(problems))
    say(f"http/config: {describe_http_config(answer)}")


def _proc_net_address(text: str) -> str:
    """'0100007F:1F90' (/proc/net/tcp) or its 32-digit IPv6 form -> '127.0.0.1:8080'."""
    host, port = text.split(":")
    raw = bytes.fromhex(host)
    # Each 32-bit word is in host (little-endian) byte order.
    packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(packed)
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"{shown}:{int(port, 16)}"


def listening_sockets(pid: int) -> list[str]:
    """Addresses ('127.0.0.1:8123', '[::]:8123') of the TCP sockets `pid` listens on."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError as err:
        raise DevError(f"cannot read the sockets of pid {pid}: {err}") from err
    found = []
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: TCP_LISTEN
                found.append(_proc_net_address(fields[1]))
    return sorted(found)


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    ip = ipaddress.ip_address(host)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def listening_problems(pid: int, port: int) -> list[str]:
    """What is wrong with the TCP listeners of `pid`: beyond loopback, or not on our port."""
    addresses = listening_sockets(pid)
    say(f"pid {pid} listens on (TCP): {', '.join(addresses) or 'nothing'}")
    problems = []
    exposed = [a for a in addresses if not _is_loopback(a)]
    if exposed:
        problems.append(f"pid {pid} listens beyond loopback: {', '.join(exposed)}")
    if f"{LOOPBACK_HOST}:{port}" not in addresses:
        problems.append(f"pid {pid} does not listen on {LOOPBACK_HOST}:{port}")
    return problems


def check_listening(pid: int, port: int) -> None:
    """Fail unless `pid` listens on LOOPBACK_HOST:port and on loopback addresses only."""
    if problems := listening_problems(pid, port):
        raise DevError("; ".join(problems))


def pids_listening_on(port: int) -> set[int]:
    """Processes (of those this user may inspect) with a TCP socket listening on `port`."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if links & inodes:
            pids.add(int(proc.name))
    return pids


def check_http(api: Api, port: int, pid: int) -> None:
    """Both assertions: nothing pending (websocket http/config), loopback-only listeners."""
    with WebSocket(api) as ws:
        answer = ws.command("http/config")
    say(f"http/config: {describe_http_config(answer)}")
    problems = http_config_problems(answer, port) + listening_problems(pid, port)
    if problems:
        raise DevError("HTTP check failed: " + "; ".join(problems))
    say("HTTP OK: nothing pending, no revert scheduled, listening on loopback only")


def login(api: Api, token_file: Path) -> None:
    if not login_with_token_file(api, token_file):
        login_with_password(api, token_file)


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
    api: Api,
    entities: list[str],
    timeout: float,
    known_entities: list[str] | None = None,
    on_entities: list[str] | None = None,
) -> None:
    """Wait for numeric `entities`, known `known_entities` and `on_entities` being on."""
    known_entities = known_entities or []
    on_entities = on_entities or []
    wanted = [*entities, *known_entities, *on_entities]
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
        if (
            all(numeric(seen.get(e)) is not None for e in entities)
            and all(known(seen.get(e)) for e in known_entities)
            and all((seen.get(e) or {}).get("state") == "on" for e in on_entities)
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
    states.add_argument(
        "--on",
        action="append",
        default=[],
        metavar="ENTITY",
        help="also wait for this entity to be on, e.g. an incident opening (repeatable)",
    )
    states.add_argument("entities", nargs="+", help="entities that must have numeric states")
    scan = sub.add_parser("scan-log")
    scan.add_argument("log", type=Path)
    store = sub.add_parser("http-store")
    store.add_argument("--config-dir", type=Path, required=True)
    store.add_argument("--port", type=int, required=True)
    check = sub.add_parser("check-http")
    check.add_argument("--url", required=True)
    check.add_argument("--token-file", type=Path, required=True)
    check.add_argument("--pid", type=int, required=True, help="the hass process")
    show = sub.add_parser("http-config")
    show.add_argument("--url", required=True)
    show.add_argument("--token-file", type=Path, required=True)
    show.add_argument("--promote", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "scan-log":
            return 1 if scan_log(args.log) else 0
        if args.command == "http-store":
            write_http_store(args.config_dir, args.port)
            return 0
        api = Api(args.url)
        if args.command == "wait-http":
            wait_http(api, args.timeout, args.pid)
        elif args.command == "setup":
            onboard_and_login(api, args.token_file)
            ensure_http_confirmed(api, urllib.parse.urlsplit(api.url).port or 80)
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
            login(api, args.token_file)
            wait_states(api, args.entities, args.timeout, args.known, args.on)
        elif args.command == "check-http":
            login(api, args.token_file)
            check_http(api, urllib.parse.urlsplit(api.url).port or 80, args.pid)
        elif args.command == "http-config":
            login(api, args.token_file)
            with WebSocket(api) as ws:
                print(json.dumps(ws.command("http/config"), indent=2))
                if args.promote:
                    print(json.dumps(ws.command("http/config/promote")))
                    print(json.dumps(ws.command("http/config"), indent=2))
    except DevError as err:
        print(f"[dev_ha] FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
