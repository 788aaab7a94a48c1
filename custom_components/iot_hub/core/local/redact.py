"""Make a rejected payload safe to show in diagnostics."""

import re
from typing import Any

import orjson

SECRET_KEY = re.compile(r"pass|secret|token|auth|key|cred", re.IGNORECASE)
REDACTED = "**REDACTED**"


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if SECRET_KEY.search(str(key)) else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def payload_sample(payload: bytes, limit: int) -> str:
    """Return at most `limit` characters of the payload, secrets in JSON redacted.

    A payload too large to parse cheaply is cut, not parsed.
    """
    if len(payload) <= limit * 4:
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
        else:
            return orjson.dumps(_redact(data)).decode()[:limit]
    return payload[:limit].decode("utf-8", "replace")
