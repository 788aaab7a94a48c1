"""A small fake ThermoMaven cloud (aiohttp) that checks every signature like the real one.

The signature check is written here independently of the package's `signing` module.
Scripted answers (`cloud.script(path, ...)`) replace the next answers of a path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import hashlib
import itertools
import json
from typing import Any

from aiohttp import web

APP_KEY = "bcd4596f1bb8419a92669c8017bf25e8"
SIGNED = (
    "x-appId",
    "x-appVersion",
    "x-deviceSn",
    "x-lang",
    "x-nonce",
    "x-region",
    "x-timestamp",
    "x-token",
)
EMAIL = "user@example.com"
PASSWORD_MD5 = hashlib.md5(b"hunter2").hexdigest()
USER_ID = 291300000000000001
OK = "Your request has been successful."

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type Scripted = dict[str, Any] | bytes | web.StreamResponse | Handler


def expected_sign(headers: dict[str, str], body: bytes) -> str:
    text = APP_KEY + "|" + ";".join(f"{k}={headers[k]}" for k in sorted(SIGNED))
    if body.strip():
        text += "|" + body.decode()
    return hashlib.md5(text.replace("\n", "").encode()).hexdigest()


def ok(data: Any) -> dict[str, Any]:
    return {"code": "0", "msg": OK, "data": data}


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}


@dataclass
class FakeCloud:
    p12: bytes = b""
    p12_md5: str | None = None
    p12_password: str = "c4ca4238a0b923820dcc509a6f75849b"
    owned: list[dict[str, Any]] = field(default_factory=list)
    shared: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    scripted: dict[str, list[Scripted]] = field(default_factory=lambda: defaultdict(list))
    base: str = ""
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def script(self, path: str, *answers: Scripted) -> None:
        self.scripted[path].extend(answers)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{path:.*}", self.handle)
        app.router.add_get("/mqtt-cert/{name}", self.download)
        return app

    async def download(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(Request(request.path, dict(request.headers), b""))
        if self.scripted[request.path]:
            return await self._answer(self.scripted[request.path].pop(0), request)
        return web.Response(body=self.p12, content_type="application/x-pkcs12")

    async def _answer(self, scripted: Scripted, request: web.Request) -> web.StreamResponse:
        if callable(scripted):
            return await scripted(request)
        if isinstance(scripted, web.StreamResponse):
            return scripted
        if isinstance(scripted, bytes):
            return web.Response(body=scripted, content_type="application/json")
        return web.json_response(scripted)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: request.headers.get(k, "") for k in (*SIGNED, "x-sign", "Content-Type")}
        self.requests.append(Request(request.path, headers, body))
        if request.headers.get("x-sign") != expected_sign(headers, body):
            return web.json_response({"code": "40000", "msg": "Sign error", "data": None})
        if self.scripted[request.path]:
            return await self._answer(self.scripted[request.path].pop(0), request)
        if request.path == "/app/account/login":
            return web.json_response(self._login(headers, body))
        if headers["x-token"] not in self.tokens:
            # What an expired token looks like is unknown; this fake says 4001.
            return web.json_response({"code": "4001", "msg": "token invalid", "data": None})
        return web.json_response(self._authed(request.path, body))

    def _login(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        assert headers["x-token"] == "none"
        data = json.loads(body)
        if data["accountName"] != EMAIL or data["accountPassword"] != PASSWORD_MD5:
            return {"code": "41001", "msg": "Invalid credentials", "data": None}
        token = f"token{next(self._counter)}"
        self.tokens.add(token)
        return ok(
            {
                "token": token,
                "userId": USER_ID,
                "user": {"userName": "Pit Master", "userEmail": EMAIL, "passwordExists": True},
                "setting": {"temperatureUnit": "F"},
                "loginType": "email",
                "userAction": None,
            }
        )

    def _authed(self, path: str, body: bytes) -> dict[str, Any]:
        match path:
            case "/app/device/share/my/device/list":
                assert body == b""
                return ok(self.owned)
            case "/app/device/share/shared/device/list":
                assert body == b""
                return ok(self.shared)
            case "/app/mqtt/cert/apply":
                assert body == b""
                return ok(
                    {
                        "p12Url": f"{self.base}/mqtt-cert/8f1e2d3c4b5a.p12",
                        "p12Md5": self.p12_md5 or hashlib.md5(self.p12).hexdigest(),
                        "p12Password": self.p12_password,
                        "clientId": f"android-{USER_ID}-US-0123456789abcdef0123456789abcdef",
                        "subTopics": [f"app/user/{USER_ID}/sub"],
                    }
                )
            case "/app/command/send":
                command = json.loads(body)
                assert set(command) == {"deviceId", "deviceType", "cmdType", "cmdId", "cmdData"}
                return {"code": "0", "msg": OK, "data": None}
        return {"code": "404", "msg": "no such endpoint", "data": None}
