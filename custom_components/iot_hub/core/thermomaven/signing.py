"""Request signing (x-sign) and the headers every REST call carries.

x-sign is the lowercase hex MD5 (plain MD5, not HMAC) of
`appKey | k1=v1;k2=v2;... [| body]` where the pairs are the eight `x-*` headers sorted by
key in code-point order, the body segment is present only for a non-blank body, and every
newline is removed before hashing.
"""

from collections.abc import Callable, Mapping
import hashlib
import re
import time
from typing import Final
import uuid

APP_ID: Final = "ap4060eff28137181bd"
# Recovered from the app (libmodule_appnative.so); proven against the US server only.
APP_KEY: Final = "bcd4596f1bb8419a92669c8017bf25e8"
APP_VERSION: Final = "1906"
LANG: Final = "en_US"
# x-token before login (not a secret).
NO_TOKEN: Final = "none"  # noqa: S105
USER_AGENT: Final = "okhttp/4.12.0"
CONTENT_TYPE: Final = "application/json; charset=UTF-8"

# The signed headers; x-sign itself is not part of the string.
SIGNED_HEADERS: Final = (
    "x-appId",
    "x-appVersion",
    "x-deviceSn",
    "x-lang",
    "x-nonce",
    "x-region",
    "x-timestamp",
    "x-token",
)

_DEVICE_SN = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}", re.ASCII)
# What may go into a header value: printable ASCII without spaces (no CR/LF injection).
_HEADER_VALUE = re.compile(r"[!-~]{1,512}", re.ASCII)


def sign(headers: Mapping[str, str], body: str = "", app_key: str = APP_KEY) -> str:
    """Return the x-sign of `headers` (their `x-*` entries but x-sign) and `body`."""
    pairs = sorted(
        (key, value) for key, value in headers.items() if key.startswith("x-") and key != "x-sign"
    )
    text = app_key + "|" + ";".join(f"{key}={value}" for key, value in pairs)
    if body.strip():
        text += "|" + body
    return hashlib.md5(text.replace("\n", "").encode(), usedforsecurity=False).hexdigest()


def now_ms() -> int:
    """Return the Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


def new_nonce() -> str:
    """Return a fresh nonce: a UUID4 as 32 hex characters."""
    return uuid.uuid4().hex


def new_device_sn() -> str:
    """Return a fresh install id (x-deviceSn): 32 lowercase hex, like md5(android_id)."""
    return uuid.uuid4().hex


def valid_device_sn(value: str) -> bool:
    """Whether `value` has the x-deviceSn format: 16 or 32 lowercase hex."""
    return _DEVICE_SN.fullmatch(value) is not None


def valid_header_value(value: str) -> bool:
    """Whether `value` can be sent as a header value (printable ASCII, no space)."""
    return _HEADER_VALUE.fullmatch(value) is not None


class RequestSigner:
    """Build the signed headers of a request; clock and nonce are injectable for tests."""

    def __init__(
        self,
        *,
        region: str,
        device_sn: str,
        app_version: str = APP_VERSION,
        lang: str = LANG,
        clock: Callable[[], int] = now_ms,
        nonce: Callable[[], str] = new_nonce,
        app_key: str = APP_KEY,
    ) -> None:
        for name, value in (("region", region), ("app_version", app_version), ("lang", lang)):
            if not valid_header_value(value):
                raise ValueError(f"invalid {name}")
        if not valid_device_sn(device_sn):
            raise ValueError("device_sn must be 16 or 32 lowercase hex characters")
        self.region = region
        self.device_sn = device_sn
        self.app_version = app_version
        self.lang = lang
        self._clock = clock
        self._nonce = nonce
        self._app_key = app_key

    def headers(self, token: str | None, body: str = "") -> dict[str, str]:
        """Return every header of a request carrying `body`, signed; `None` token = "none"."""
        headers = {
            "x-appId": APP_ID,
            "x-appVersion": self.app_version,
            "x-deviceSn": self.device_sn,
            "x-lang": self.lang,
            "x-nonce": self._nonce(),
            "x-region": self.region,
            "x-timestamp": str(self._clock()),
            "x-token": token or NO_TOKEN,
        }
        headers["x-sign"] = sign(headers, body, self._app_key)
        headers["Content-Type"] = CONTENT_TYPE
        headers["User-Agent"] = USER_AGENT
        return headers
