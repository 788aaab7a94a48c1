"""Asyncio REST client of the ThermoMaven cloud (login, device lists, MQTT cert, commands).

`ThermoMavenApi` uses the `aiohttp.ClientSession` it is given and never closes it. The base
URL comes from the region table unless `base_url=` is passed: a test (or a fake cloud)
points the client at itself with `base_url="https://127.0.0.1:<port>"` and a session whose
connector's SSL context trusts the test CA, e.g.
`aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl_context_trusting_test_ca))`.
An `http://` base URL is accepted too, and then allows an `http://` P12 URL.

Every call is a signed POST whose body is compact JSON, signed over the exact bytes sent
(`{}` goes as an empty body). Every answer is hostile input: size-capped, validated, and
the only exceptions that leave this client are those of `errors`. Per the protocol notes,
an authenticated call answered with a code other than "0" and "40000" logs in again once
with the credentials the client holds and retries; a refused login raises AuthError.
"""

import asyncio
from collections.abc import Callable
import hashlib
import json
import logging
import re
from typing import Any, Final

import aiohttp
from yarl import URL

from .answers import (
    SIGN_ERROR,
    SUCCESS,
    Answer,
    describe,
    parse_account,
    parse_answer,
    parse_certificate_grant,
    parse_rest_devices,
)
from .commands import Command
from .errors import AuthError, ChecksumMismatch, CloudUnavailable, SignError, UnexpectedAnswer
from .fields import MAX_QUOTE, as_id
from .models import Account, CertificateGrant, RestDevice
from .regions import DataCentre, Region, region_for
from .signing import (
    APP_VERSION,
    USER_AGENT,
    RequestSigner,
    new_nonce,
    now_ms,
    valid_header_value,
)

_LOGGER = logging.getLogger(__name__)

LOGIN: Final = "/app/account/login"
OWNED_DEVICES: Final = "/app/device/share/my/device/list"
SHARED_DEVICES: Final = "/app/device/share/shared/device/list"
CERT_APPLY: Final = "/app/mqtt/cert/apply"
COMMAND_SEND: Final = "/app/command/send"

DEVICE_INFO: Final = "homeassistant thermomaven"
DEFAULT_TIMEOUT: Final = 20.0
MAX_P12_BYTES: Final = 256 * 1024
_MAX_ANSWER_BYTES: Final = 1024 * 1024
_MD5 = re.compile(r"[0-9a-fA-F]{32}", re.ASCII)
_RETRY_STATUSES: Final = frozenset({408, 429})
_AUTH_STATUSES: Final = frozenset({401, 403})
# Errors of aiohttp and the socket layer: the cloud is unreachable.
_NETWORK_ERRORS: Final = (aiohttp.ClientError, TimeoutError, OSError)


def password_md5(password: str) -> str:
    """Return the password as the cloud wants it: unsalted MD5, lowercase hex."""
    return hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()


def _credentials(email: str, password_hash: str) -> tuple[str, str]:
    """Return (email stripped and lower-cased, MD5 lower-cased); ValueError for a non-MD5."""
    if not _MD5.fullmatch(password_hash):
        raise ValueError("pass the password as its MD5 hex digest (see password_md5)")
    return normalise_email(email), password_hash.lower()


def normalise_email(email: str) -> str:
    """Return the login email as sent: stripped and lower-cased."""
    return email.strip().lower()


def encode_body(body: dict[str, Any]) -> str:
    """Serialise a body compactly; `{}` is sent (and signed) as an empty body."""
    if not body:
        return ""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Return the body of a response, raising UnexpectedAnswer past `limit` bytes."""
    if response.content_length is not None and response.content_length > limit:
        raise UnexpectedAnswer(f"answer of {response.content_length} bytes is too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise UnexpectedAnswer(f"answer is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class ThermoMavenApi:
    """REST client of one account; holds its token and the credentials it was given."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        region: str,
        device_sn: str,
        base_url: str | None = None,
        app_version: str = APP_VERSION,
        device_info: str = DEVICE_INFO,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], int] = now_ms,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        """Raise RegionError for a country outside the table, ValueError for a bad argument."""
        self.region: Region = region_for(region)
        url = URL(base_url or self.region.base_url)
        if url.scheme not in ("https", "http") or not url.host or url.path not in ("", "/"):
            raise ValueError("base_url must be http(s)://host[:port]")
        self.base_url = str(url).rstrip("/")
        self._allow_http = url.scheme == "http"
        self._session = session
        self._signer = RequestSigner(
            region=self.region.code,
            device_sn=device_sn,
            app_version=app_version,
            clock=clock,
            nonce=nonce,
        )
        self._device_info = device_info
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._credentials: tuple[str, str] | None = None
        self._token: str | None = None
        self._account: Account | None = None
        self._login_lock = asyncio.Lock()

    @property
    def account(self) -> Account | None:
        """Return the account of the last successful login."""
        return self._account

    @property
    def token(self) -> str | None:
        """Return the current token (None before login)."""
        return self._token

    def set_credentials(self, email: str, password_hash: str, token: str | None = None) -> None:
        """Hold credentials (and a saved token) without a network call; login is lazy.

        A saved token that could not be sent as a header is dropped (the next call logs in).
        """
        self._credentials = _credentials(email, password_hash)
        self._token = token if token is not None and valid_header_value(token) else None

    async def login(self, email: str, password_hash: str) -> Account:
        """Log in with an email and the MD5 of the password; hold them for re-logins.

        Raise AuthError when refused, SignError on code 40000, CloudUnavailable when the
        cloud cannot be reached, UnexpectedAnswer on a malformed answer; ValueError when
        `password_hash` is no MD5 hex digest (a programming error).
        """
        credentials = _credentials(email, password_hash)
        async with self._login_lock:
            account = await self._login(credentials)
        self._credentials = credentials
        return account

    async def owned_devices(self) -> tuple[RestDevice, ...]:
        """Return the devices the account owns (also makes the cloud publish the list)."""
        return parse_rest_devices(await self._authed(OWNED_DEVICES, {}))

    async def shared_devices(self) -> tuple[RestDevice, ...]:
        """Return the devices shared to the account (they may lack a deviceId)."""
        return parse_rest_devices(await self._authed(SHARED_DEVICES, {}))

    async def apply_certificate(self) -> CertificateGrant:
        """Return the MQTT client certificate grant: P12 URL, MD5, password, topics."""
        data = await self._authed(CERT_APPLY, {})
        return parse_certificate_grant(data, allow_http=self._allow_http)

    async def send_command(self, command: Command) -> str:
        """Send a command; return its cmdId (the cloud's when it returns one).

        Success only means queued: the device's verdict is the matching MQTT receipt.
        """
        data = await self._authed(COMMAND_SEND, command.body())
        returned = as_id(data.get("cmdId")) if isinstance(data, dict) else None
        return returned or command.cmd_id

    async def download_p12(self, grant: CertificateGrant) -> bytes:
        """Download the P12 (plain GET) and check its MD5 when the grant gives one."""
        try:
            async with self._session.get(
                grant.p12_url, headers={"User-Agent": USER_AGENT}, timeout=self._timeout
            ) as response:
                self._check_status(response.status)
                if response.status != 200:
                    raise UnexpectedAnswer(f"P12 download answered HTTP {response.status}")
                p12 = await read_capped(response, MAX_P12_BYTES)
        except _NETWORK_ERRORS as err:
            raise CloudUnavailable(f"P12 download failed: {_brief(err)}") from err
        if not p12:
            raise UnexpectedAnswer("P12 download is empty")
        digest = hashlib.md5(p12, usedforsecurity=False).hexdigest()
        if grant.p12_md5 is not None and digest != grant.p12_md5:
            raise ChecksumMismatch("P12 MD5 does not match the announced p12Md5")
        return p12

    # ------------------------------------------------------------------ internals

    async def _login(self, credentials: tuple[str, str]) -> Account:
        """Log in (the caller holds the login lock); store and return the account."""
        email, password_hash = credentials
        if not email or len(email) > 254:
            raise AuthError("empty or overlong email")
        body = {
            "accountName": email,
            "accountPassword": password_hash,
            "deviceInfo": self._device_info,
        }
        answer = await self._post(LOGIN, body, None)
        if answer.code != SUCCESS:
            self._raise_if_sign_error(answer)
            raise AuthError(f"login refused ({describe(answer)}); check account and region")
        account = parse_account(answer.data)
        self._token = account.token
        self._account = account
        _LOGGER.debug("Logged in to %s", self.base_url)
        return account

    async def _fresh_token(self, stale: str | None) -> str:
        """Return a token newer than `stale`, logging in unless another call just did."""
        async with self._login_lock:
            if self._token is not None and self._token != stale:
                return self._token
            if self._credentials is None:
                raise AuthError("not logged in and no credentials to log in with")
            self._token = None
            account = await self._login(self._credentials)
            return account.token

    async def _authed(self, path: str, body: dict[str, Any]) -> Any:
        """POST with the token; on an unknown code log in again once and retry."""
        token = self._token or await self._fresh_token(None)
        answer = await self._post(path, body, token)
        if answer.code == SUCCESS:
            return answer.data
        self._raise_if_sign_error(answer)
        _LOGGER.debug("%s answered %s; logging in again", path, describe(answer))
        token = await self._fresh_token(token)
        answer = await self._post(path, body, token)
        if answer.code == SUCCESS:
            return answer.data
        self._raise_if_sign_error(answer)
        raise UnexpectedAnswer(
            f"{path} refused after a fresh login ({describe(answer)})", code=answer.code
        )

    def _raise_if_sign_error(self, answer: Answer) -> None:
        """Raise SignError for code 40000 (with a hint on the DE data centre)."""
        if answer.code != SIGN_ERROR:
            return
        if self.region.data_centre is DataCentre.DE:
            raise SignError(
                f"{describe(answer)}: the app key is only proven on the US data centre; "
                "the DE data centre refused the signature"
            )
        raise SignError(describe(answer))

    @staticmethod
    def _check_status(status: int) -> None:
        """Raise CloudUnavailable for statuses that say the cloud is down or busy."""
        if status >= 500 or status in _RETRY_STATUSES:
            raise CloudUnavailable(f"HTTP {status}")

    async def _post(self, path: str, body: dict[str, Any], token: str | None) -> Answer:
        """Send one signed POST and return its envelope (HTTP 401/403 as a code)."""
        text = encode_body(body)
        headers = self._signer.headers(token, text)
        try:
            async with self._session.post(
                self.base_url + path,
                data=text.encode(),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                self._check_status(response.status)
                if response.status in _AUTH_STATUSES:
                    return Answer(f"HTTP {response.status}", None, None)
                if response.status != 200:
                    raise UnexpectedAnswer(f"{path} answered HTTP {response.status}")
                payload = await read_capped(response, _MAX_ANSWER_BYTES)
        except _NETWORK_ERRORS as err:
            raise CloudUnavailable(f"{path} failed: {_brief(err)}") from err
        return parse_answer(payload)


def _brief(err: BaseException) -> str:
    """Return an exception's type and a short message, for an error detail."""
    return f"{type(err).__name__}: {str(err)[:MAX_QUOTE]}"
