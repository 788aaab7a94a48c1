"""What the fake cloud records: REST calls, commands, publications, certificates."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import web

from .pki import Leaf


@dataclass
class RecordedRequest:
    """One REST call as received, and how it was answered."""

    path: str
    headers: dict[str, str]
    body: str
    http_status: int | None = None
    code: str | None = None  # the answer's "code" (None: no JSON answer, e.g. closed)
    problem: str | None = None  # why it was refused (sign error, token...)

    @property
    def json(self) -> Any:
        """The body parsed (None when empty or not JSON)."""
        with contextlib.suppress(ValueError):
            return json.loads(self.body)
        return None

    def answered(self, response: web.Response) -> web.Response:
        """Note the answer; return it."""
        self.http_status = response.status
        if isinstance(response.body, bytes):
            with contextlib.suppress(ValueError, AttributeError):
                self.code = json.loads(response.body).get("code")
        return response


@dataclass
class RecordedCommand:
    """A command received by /app/command/send."""

    device_id: str
    cmd_type: str
    cmd_id: str
    cmd_data: dict[str, Any]
    body: dict[str, Any]
    cmd_error: int | None = None  # the receipt's cmdError; None: not executed (device offline)
    # Set once handled (after the HTTP answer): executed and receipt published, or skipped.
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


@dataclass
class Published:
    """A message the cloud published on MQTT."""

    topic: str
    message: dict[str, Any]


@dataclass
class IssuedCertificate:
    """An MQTT client certificate handed out by /app/mqtt/cert/apply."""

    cert_id: str
    leaf: Leaf
    client_id: str
    password: str
    p12: bytes
    announced_md5: str  # p12Md5 as answered (wrong when corrupted on purpose)
    url_path: str = ""
    revoked: bool = False  # by ``revoke_certificates``: the broker refuses it

    @property
    def common_name(self) -> str:
        """The certificate's CN, the broker's username for it."""
        return self.leaf.common_name

    @property
    def serial_number(self) -> int:
        """The certificate's serial number (what the broker's CRL lists)."""
        return self.leaf.cert.serial_number


@dataclass
class Failure:
    """A code to answer instead, for the next ``remaining`` calls (to ``path``)."""

    code: str
    msg: str
    remaining: int
    path: str | None
