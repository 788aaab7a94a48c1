"""The fake cloud's HTTPS REST API (§1): header and signature checks, then the endpoints.

Answers are ``{"code": "<string>", "msg": ..., "data": ...}`` with HTTP 200, as the real
cloud answers. Codes: "0" success, "40000" sign error (also for missing or malformed
x-* headers), ``CODE_BAD_CREDENTIALS`` for a wrong email/password/region,
``CODE_TOKEN_EXPIRED`` (a code no client has seen) for a token that is no longer valid,
``CODE_BAD_REQUEST`` for a malformed body and ``CODE_NO_DEVICE`` for an unknown device.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import datetime as dt
import json
import socket
import ssl
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import messages
from .signing import SIGNED_HEADERS, header_problem, md5_hex

if TYPE_CHECKING:
    from .cloud import FakeThermoMavenCloud

CODE_OK = "0"
MSG_OK = "Your request has been successful."
CODE_SIGN_ERROR = "40000"
CODE_BAD_REQUEST = "40001"
CODE_NO_DEVICE = "40004"
CODE_BAD_CREDENTIALS = "40101"
CODE_TOKEN_EXPIRED = "4099"
MSG_TOKEN_EXPIRED = "Your login has expired, please log in again."

LOGIN = "/app/account/login"
LOGOUT = "/app/account/logout"
USER_GET = "/app/user/get"
USER_SETTING = "/app/user/setting/get"
MY_DEVICES = "/app/device/share/my/device/list"
SHARED_DEVICES = "/app/device/share/shared/device/list"
CERT_APPLY = "/app/mqtt/cert/apply"
COMMAND = "/app/command/send"
P12_PREFIX = "/mqtt-cert/"
UNREACHABLE_MODES = ("refuse", "close", "503")

type Handler = Callable[[web.Request, Any], Awaitable[web.StreamResponse]]


def answer(code: str = CODE_OK, msg: str = MSG_OK, data: Any = None) -> web.Response:
    """The cloud's JSON envelope, always with HTTP 200."""
    return web.json_response({"code": code, "msg": msg, "data": data})


class RestServer:
    """aiohttp HTTPS server on 127.0.0.1 serving one ``FakeThermoMavenCloud``."""

    def __init__(self, cloud: FakeThermoMavenCloud, cert_path: str, key_path: str) -> None:
        self.cloud = cloud
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(cert_path, key_path)
        self.port = 0
        self.mode: str | None = None  # one of UNREACHABLE_MODES while unreachable
        self._runner: web.AppRunner | None = None
        self._site: web.SockSite | None = None
        self._routes: dict[str, Handler] = {
            LOGIN: self._login,
            LOGOUT: self._logout,
            USER_GET: self._user,
            USER_SETTING: self._user_setting,
            MY_DEVICES: self._device_list,
            SHARED_DEVICES: self._device_list,
            CERT_APPLY: self._cert_apply,
            COMMAND: self._command,
        }

    @property
    def base_url(self) -> str:
        """Where to send requests (the certificate covers 127.0.0.1 and localhost)."""
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_get(P12_PREFIX + "{path:.+}", self._download)
        app.router.add_post("/{path:.*}", self._api)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await self._listen()

    async def stop(self) -> None:
        """Close every connection and the listener."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None

    async def set_mode(self, mode: str | None) -> None:
        """Become unreachable (``UNREACHABLE_MODES``) or reachable again (None)."""
        if mode is not None and mode not in UNREACHABLE_MODES:
            raise ValueError(f"mode must be one of {UNREACHABLE_MODES}")
        if mode == "refuse" and self._site is not None:
            await self._site.stop()
            self._site = None
        elif mode != "refuse" and self._site is None:
            await self._listen()
        self.mode = mode

    async def _listen(self) -> None:
        assert self._runner is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Both binds reuse the address, so "refuse" can give the port back afterwards.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._site = web.SockSite(self._runner, sock, ssl_context=self._ssl)
        await self._site.start()

    def _unreachable(self, request: web.Request) -> web.Response | None:
        """Answer as an unreachable cloud would (kept-alive connections included)."""
        if self.mode is None:
            return None
        if self.mode == "503":
            return web.Response(status=503, text="Service Temporarily Unavailable")
        assert request.transport is not None
        request.transport.close()
        raise web.HTTPServiceUnavailable  # never reaches the client: the socket is closed

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if (unreachable := self._unreachable(request)) is not None:
            return unreachable
        certificate = self.cloud.certificate_at(request.path)
        if certificate is None:
            raise web.HTTPNotFound
        self.cloud.p12_downloads += 1
        return web.Response(body=certificate.p12, content_type="application/x-pkcs12")

    async def _api(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = raw.decode(errors="replace")
        headers = {
            name: request.headers[name]
            for name in (*SIGNED_HEADERS, "x-sign")
            if name in request.headers
        }
        record = self.cloud.record_request(request.path, dict(request.headers), body)
        if (unreachable := self._unreachable(request)) is not None:
            return unreachable
        if (problem := header_problem(headers, body)) is not None:
            record.problem = problem
            return record.answered(answer(CODE_SIGN_ERROR, "Sign error"))
        route = self._routes.get(request.path)
        if route is None:
            not_found = {"code": "404", "msg": "Not Found", "data": None}
            return record.answered(web.json_response(not_found, status=404))
        if (failure := self.cloud.take_failure(request.path)) is not None:
            return record.answered(answer(*failure))
        token = headers["x-token"]
        if request.path == LOGIN:
            if token != "none":
                record.problem = "login with a token"
                return record.answered(answer(CODE_BAD_REQUEST, "Illegal request"))
        elif token not in self.cloud.tokens:
            record.problem = "token not valid"
            return record.answered(answer(CODE_TOKEN_EXPIRED, MSG_TOKEN_EXPIRED))
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            record.problem = "body is not a JSON object"
            return record.answered(answer(CODE_BAD_REQUEST, "Parameter error"))
        return record.answered(await route(request, payload))

    async def _login(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        cloud = self.cloud
        name, password = body.get("accountName"), body.get("accountPassword")
        if not isinstance(name, str) or not isinstance(password, str):
            return answer(CODE_BAD_REQUEST, "Parameter error")
        if (
            name.casefold() != cloud.email.casefold()
            or password != md5_hex(cloud.password)
            or request.headers["x-region"] not in cloud.regions
        ):
            return answer(CODE_BAD_CREDENTIALS, "Incorrect account or password.")
        token = cloud.new_session()
        return answer(
            data={
                "token": token,
                "userId": int(cloud.user_id),
                "user": {
                    "userName": cloud.user_name,
                    "userEmail": cloud.email,
                    "passwordExists": True,
                },
                "setting": {"temperatureUnit": cloud.unit},
                "loginType": "email",
                "userAction": None,
            }
        )

    async def _logout(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        self.cloud.tokens.discard(request.headers["x-token"])
        return answer()

    async def _user(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        cloud = self.cloud
        return answer(
            data={
                "userId": int(cloud.user_id),
                "userName": cloud.user_name,
                "userEmail": cloud.email,
                "passwordExists": True,
                "setting": {"temperatureUnit": cloud.unit},
            }
        )

    async def _user_setting(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        return answer(data={"temperatureUnit": self.cloud.unit})

    async def _device_list(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        cloud = self.cloud
        if request.path == MY_DEVICES:
            data = [messages.owned_entry(d) for d in cloud.devices.values() if not d.shared]
        else:
            data = [messages.shared_entry(d) for d in cloud.devices.values() if d.shared]
        # [D], [F]: a REST device-list call makes the cloud (re)publish user:device:list
        # (published before the answer, so it is on its way once the call returns).
        if cloud.device_list_on_rest:
            await cloud.publish_device_list()
        return answer(data=data)

    async def _cert_apply(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        cloud = self.cloud
        certificate = await cloud.issue_certificate(
            region=request.headers["x-region"], install_id=request.headers["x-deviceSn"]
        )
        today = dt.datetime.now(dt.UTC)
        data = {
            "p12Url": f"{self.base_url}{P12_PREFIX}{today:%Y/%m/%d}/{certificate.cert_id}.p12",
            "p12Md5": certificate.announced_md5,
            "p12Password": certificate.password,
            "clientId": certificate.client_id,
            "subTopics": [cloud.user_topic],
            **cloud.cert_apply_extra,
        }
        certificate.url_path = data["p12Url"].removeprefix(self.base_url)
        return answer(data=data)

    async def _command(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        cloud = self.cloud
        device_id, cmd_type, cmd_data = (
            body.get("deviceId"),
            body.get("cmdType"),
            body.get("cmdData"),
        )
        if not (
            isinstance(device_id, str) and isinstance(cmd_type, str) and isinstance(cmd_data, dict)
        ):
            return answer(CODE_BAD_REQUEST, "Parameter error")
        if device_id not in cloud.devices:
            return answer(CODE_NO_DEVICE, "Device does not exist.")
        cmd_id = body.get("cmdId") if isinstance(body.get("cmdId"), str) else messages.new_id()
        command = cloud.record_command(device_id, cmd_type, cmd_id, cmd_data, body)
        # HTTP answer first ("queued"), then the device's receipt over MQTT, as in §1.9.
        response = await self._send_now(request, answer(data={"cmdId": cmd_id}))
        await cloud.execute(command)
        return response

    @staticmethod
    async def _send_now(request: web.Request, response: web.Response) -> web.Response:
        """Send ``response`` completely before the handler goes on."""
        await response.prepare(request)
        await response.write_eof()
        return response
