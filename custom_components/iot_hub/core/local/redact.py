"""Make a rejected message safe to show: its payload in diagnostics, its topic in a log line.

Both helpers are pure and never raise, whatever the bytes or text.
"""

import re
from typing import Any, Final

import orjson

SECRET_KEY = re.compile(r"pass|secret|token|auth|key|cred", re.IGNORECASE)
REDACTED = "**REDACTED**"
# Levels of nesting a sample shows; deeper arrays and objects are elided. orjson reads 1024
# levels but writes at most 255, and a sample is only read by a person.
MAX_SAMPLE_DEPTH: Final = 16
ELIDED_LIST: Final = "[…]"
ELIDED_OBJECT: Final = "{…}"
# In text that is not parsed (not JSON, or too large): `key: value`, `"key": "value"`,
# `'key': 'value'`, `key=value`, the value quoted (maybe cut short) or bare. An object or
# array value is not consumed: the entries inside it are looked at in turn.
# Linear time whatever the text: a key starts a word, and nothing backtracks (possessive).
_RAW_ENTRY = re.compile(
    r"""(?P<quote>["']?)(?<![\w.-])(?P<key>[\w.-]++)(?P=quote)(?P<sep>[ \t]*+[:=][ \t]*+)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*+"?|'(?:[^'\\]|\\.)*+'?|[^\s,;&{}\[\]"']*+)"""
)
# Longest text quoted in a log line or a diagnostics sample (a topic, a detail), then "…".
MAX_QUOTED: Final = 120
ELLIPSIS: Final = "…"


def _redact(value: Any, depth: int) -> Any:
    """Copy parsed JSON, secret keys' values replaced and levels past the depth elided."""
    if isinstance(value, dict):
        if depth >= MAX_SAMPLE_DEPTH:
            return ELIDED_OBJECT
        return {
            key: REDACTED if SECRET_KEY.search(str(key)) else _redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        if depth >= MAX_SAMPLE_DEPTH:
            return ELIDED_LIST
        return [_redact(item, depth + 1) for item in value]
    return value


def payload_sample(payload: bytes, limit: int) -> str:
    """Return at most `limit` characters of the payload, secrets in JSON redacted.

    A payload too large to parse cheaply, or not JSON, is cut, not parsed: the values of
    secret-looking keys in what is shown are hidden all the same (best effort). JSON nested
    deeper than `MAX_SAMPLE_DEPTH` levels shows its first levels only.
    """
    if len(payload) <= limit * 4:
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
        else:
            try:
                return orjson.dumps(_redact(data, 0)).decode()[:limit]
            except orjson.JSONEncodeError, RecursionError:
                # Not expected once the depth is capped; never show the unredacted text.
                return f"<{len(payload)} bytes of JSON, not shown>"[:limit]
    return _redact_raw(payload[:limit].decode("utf-8", "replace"))[:limit]


def _hide_secret(match: re.Match[str]) -> str:
    if SECRET_KEY.search(match["key"]) is None:
        return match[0]
    quote = match["quote"]
    return f'{quote}{match["key"]}{quote}{match["sep"]}"{REDACTED}"'


def _redact_raw(text: str) -> str:
    """Best effort on text that was not parsed: hide the values of secret-looking keys."""
    return _RAW_ENTRY.sub(_hide_secret, text)


def printable(text: str, limit: int = MAX_QUOTED) -> str:
    r"""Fit `text` for one log line: at most `limit` characters (then "…"), all printable.

    Line breaks, control and format characters (a right-to-left override...) are shown
    as their escape (`\n`, `\u202e`), so a device cannot forge log lines or hide text.
    """
    if len(text) <= limit and text.isprintable():
        return text
    pieces: list[str] = []
    size = 0
    for char in text:  # stops within `limit` + 1 characters: each one shows as one or more
        piece = char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        if size + len(piece) > limit:
            return "".join(pieces) + ELLIPSIS
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces)
