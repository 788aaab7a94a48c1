"""Request signing (x-sign) and header checks as the protocol doc describes them (§1.3, §1.4)."""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import re

APP_ID = "ap4060eff28137181bd"
APP_KEY = "bcd4596f1bb8419a92669c8017bf25e8"
# The eight signed headers, in the order the signature joins them (code-point order).
SIGNED_HEADERS = (
    "x-appId",
    "x-appVersion",
    "x-deviceSn",
    "x-lang",
    "x-nonce",
    "x-region",
    "x-timestamp",
    "x-token",
)
# [K]: x-lang and x-region take part in the signature only when non-empty.
_OPTIONAL_IN_SIGNATURE = frozenset({"x-lang", "x-region"})
_FORMATS = {
    "x-appVersion": re.compile(r"\d{1,8}"),
    "x-deviceSn": re.compile(r"[0-9a-fA-F]{16,64}"),
    "x-nonce": re.compile(r"[0-9a-fA-F]{32}"),
    "x-timestamp": re.compile(r"\d{13}"),
}


def md5_hex(data: str | bytes) -> str:
    """Lowercase hex MD5 (the signature and the login password hash)."""
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.md5(raw, usedforsecurity=False).hexdigest()


def sign(headers: Mapping[str, str], body: str) -> str:
    """x-sign for ``headers`` (any mapping with the x-* names) and the raw request body."""
    pairs = []
    for name in sorted(SIGNED_HEADERS):
        value = headers.get(name, "")
        if value == "" and name in _OPTIONAL_IN_SIGNATURE:
            continue
        pairs.append(f"{name}={value}")
    text = APP_KEY + "|" + ";".join(pairs)
    if body.strip():
        text += "|" + body
    return md5_hex(text.replace("\n", ""))


def header_problem(headers: Mapping[str, str], body: str) -> str | None:
    """Why the cloud would refuse these headers (answered as a sign error), or None."""
    for name in (*SIGNED_HEADERS, "x-sign"):
        if name not in headers:
            return f"missing header {name}"
    if headers["x-appId"] != APP_ID:
        return f"unknown x-appId {headers['x-appId']!r}"
    for name, pattern in _FORMATS.items():
        if not pattern.fullmatch(headers[name]):
            return f"malformed {name} {headers[name]!r}"
    if not headers["x-token"]:
        return "empty x-token"
    expected = sign(headers, body)
    if headers["x-sign"] != expected:
        return f"x-sign {headers['x-sign']!r} != {expected!r}"
    return None
