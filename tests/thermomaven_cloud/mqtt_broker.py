"""The fake AWS IoT: mosquitto with a mutual-TLS listener and per-certificate topic rights.

The MQTT listener (``port_mtls``) requires a client certificate from the cloud CA and
takes the certificate's CN as the username (``use_identity_as_username``). Rights come
from mosquitto's dynamic-security plugin: each issued certificate's CN is a dynsec
client holding the account's role, which may subscribe (``subscribeLiteral``: exact
filters, no wildcards) and receive on the account's topics only. Anything else is
refused with SUBACK 0x80; publishing is allowed to nobody but the cloud itself
(denied publishes are dropped silently; AWS would disconnect instead). The listener
also checks a CRL (``crl_path``, empty at first): ``load_crl`` replaces it at runtime
(SIGHUP), and a certificate it lists fails the TLS handshake ("certificate verify
failed" in the log, as for an expired one).

The cloud talks to the broker over ``CloudLink``: a small asyncio MQTT 3.1.1 client
(no thread) using the cloud's own certificate, which may publish anywhere and send
dynsec commands (``$CONTROL/dynamic-security/v1``) to change the rights at runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
import json
import os
from pathlib import Path
import re
import signal
import ssl
import uuid

from ..broker import DYNSEC_PLUGIN, Mosquitto
from ..certs import Pki
from .pki import CloudCA, Leaf

ADMIN_CN = "thermomaven-cloud"
ADMIN_ROLE = "cloud-admin"
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
LINK_TIMEOUT = 15.0
LOG_POLL = 0.02
_ACCOUNT_ACL_TYPES = ("subscribeLiteral", "publishClientReceive")


def account_acls(topics: Iterable[str]) -> list[dict[str, object]]:
    """Dynsec ACL entries letting a client subscribe to and receive ``topics``."""
    return [
        {"acltype": kind, "topic": topic, "allow": True}
        for topic in sorted(topics)
        for kind in _ACCOUNT_ACL_TYPES
    ]


def _unused_faulty(server: Leaf, client: Leaf) -> dict[str, Path | str]:
    """Return the Pki fields of faulty certificates, filled with good ones (unused here)."""
    fields: dict[str, Path | str] = {}
    for stem, leaf in (
        ("expired_server", server),
        ("expired_client", client),
        ("foreign_client", client),
    ):
        assert leaf.cert_path is not None
        assert leaf.key_path is not None
        fields[f"{stem}_cert"] = leaf.cert_path
        fields[f"{stem}_cert_pem"] = leaf.cert_path.read_text()
        fields[f"{stem}_key"] = leaf.key_path
        fields[f"{stem}_key_pem"] = leaf.key_path.read_text()
    return fields


class CloudMosquitto(Mosquitto):
    """Mosquitto with the cloud's mutual-TLS listener (``port_mtls``).

    The password listener of the base class stays (full rights, ``publish()`` works);
    the plain-TLS and websocket ports are chosen but left unused.
    """

    def __init__(self, ca: CloudCA, directory: Path, role: str, topics: Iterable[str]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        server = ca.issue_server("broker")
        self.admin: Leaf = ca.issue_client(ADMIN_CN, stem="cloud-admin")
        unrelated = CloudCA(directory / "unrelated-ca", "Unrelated CA")
        assert server.cert_path is not None
        assert server.key_path is not None
        assert self.admin.cert_path is not None
        assert self.admin.key_path is not None
        pki = Pki(
            ca_cert=ca.cert_path,
            ca_cert_pem=ca.cert_pem,
            server_cert=server.cert_path,
            server_cert_pem=server.cert_path.read_text(),
            server_key=server.key_path,
            server_key_pem=server.key_path.read_text(),
            client_cert=self.admin.cert_path,
            client_cert_pem=self.admin.cert_path.read_text(),
            client_key=self.admin.key_path,
            client_key_pem=self.admin.key_path.read_text(),
            wrong_ca_cert=unrelated.cert_path,
            wrong_ca_cert_pem=unrelated.cert_pem,
            client_cn=ADMIN_CN,
            # The faulty certificates of tests/certs.py are not used by the fake cloud
            # (it revokes and expires its own): the good ones stand in for them.
            **_unused_faulty(server, self.admin),
        )
        super().__init__(pki, directory)
        self.crl_path = directory / "revoked.crl"
        self.crl_path.write_text(ca.crl())
        # Written once: the plugin saves its runtime changes here, and a restart keeps them.
        self._write_cloud_dynsec(role, topics)

    def _write_cloud_dynsec(self, role: str, topics: Iterable[str]) -> None:
        admin_acls = [
            {"acltype": "publishClientSend", "topic": "#", "allow": True},
            *(
                {"acltype": kind, "topic": "$CONTROL/dynamic-security/#", "allow": True}
                for kind in ("publishClientSend", "publishClientReceive", "subscribePattern")
            ),
        ]
        config = {
            "clients": [{"username": ADMIN_CN, "roles": [{"rolename": ADMIN_ROLE}]}],
            "roles": [
                {"rolename": ADMIN_ROLE, "acls": admin_acls},
                {"rolename": role, "acls": account_acls(topics)},
            ],
            "defaultACLAccess": {
                "publishClientSend": False,
                "publishClientReceive": False,
                "subscribe": False,
                "unsubscribe": True,
            },
        }
        self.dynsec_path.write_text(json.dumps(config, indent=1))
        self.dynsec_path.chmod(0o600)

    def _write_config(self) -> None:
        pki = self.pki
        lines = [
            "per_listener_settings true",
            "persistence false",
            f"log_dest file {self.log_path}",
            "log_type all",
            *(["user root"] if os.geteuid() == 0 else []),
            "",
            f"listener {self.port_password} {self.host}",
            "allow_anonymous false",
            f"password_file {self.password_file}",
            "",
            f"listener {self.port_mtls} {self.host}",
            "allow_anonymous false",
            f"cafile {pki.ca_cert}",
            f"certfile {pki.server_cert}",
            f"keyfile {pki.server_key}",
            "require_certificate true",
            "use_identity_as_username true",
            f"crlfile {self.crl_path}",
            f"plugin {DYNSEC_PLUGIN}",
            f"plugin_opt_config_file {self.dynsec_path}",
            "",
        ]
        self.config_path.write_text("\n".join(lines))

    async def load_crl(self, crl_pem: str) -> None:
        """Replace the CRL; if running, reload it (SIGHUP) and return once reloading.

        Measured on 2.0.11: SIGHUP reloads the CRL and keeps every connection (a revoked
        client stays connected until kicked); the reloaded CRL replaces the previous one
        (even one with an older lastUpdate). The reload runs in one pass of the broker's
        loop, so packets sent once "Reloading config." is logged are handled after it.
        """
        self.crl_path.write_text(crl_pem)
        if not self.running:
            return  # read at the next start
        mark = self.log_mark()
        assert self._process is not None
        self._process.send_signal(signal.SIGHUP)
        await self.wait_for_log(lambda line: line.endswith(": Reloading config."), since=mark)

    def log_mark(self) -> int:
        """Current end of the broker log: pass it as ``since`` to the waits below."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    async def wait_for_log(
        self, matches: Callable[[str], bool], *, since: int = 0, timeout: float = LINK_TIMEOUT
    ) -> str:
        """The first log line after ``since`` for which ``matches`` holds (polls the file)."""
        offset = since
        pending = ""
        async with asyncio.timeout(timeout):
            while True:
                if self.log_path.exists():
                    with self.log_path.open("rb") as log:
                        log.seek(offset)
                        chunk = log.read()
                    offset += len(chunk)
                    *lines, pending = (pending + chunk.decode(errors="replace")).split("\n")
                    for line in lines:
                        if matches(line):
                            return line
                await asyncio.sleep(LOG_POLL)

    async def wait_for_subscription(
        self, topic: str, *, client_id: str | None = None, since: int = 0, timeout: float = 15.0
    ) -> str:
        """Wait until the broker *granted* a subscription to ``topic``; return the client id.

        mosquitto logs ``<client id> <qos> <filter>`` for granted filters only.
        """
        who = re.escape(client_id) if client_id else r"\S+"
        granted = re.compile(rf"^\d+: ({who}) [0-2] {re.escape(topic)}$")
        line = await self.wait_for_log(
            lambda text: bool(granted.match(text)), since=since, timeout=timeout
        )
        match = granted.match(line)
        assert match
        return match.group(1)


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return len(raw).to_bytes(2, "big") + raw


def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        length, digit = divmod(length, 128)
        out.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(out)


class CloudLink:
    """The cloud's own MQTT connection: QoS 1 publishes and dynsec commands (no thread)."""

    def __init__(self, broker: CloudMosquitto) -> None:
        self.broker = broker
        self._lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._packet_id = 0
        self._ssl = ssl.create_default_context(cafile=str(broker.pki.ca_cert))
        self._ssl.load_cert_chain(str(broker.pki.client_cert), str(broker.pki.client_key))

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish with QoS 1 and return once the broker acknowledged it."""
        async with self._lock:
            await self._retrying(lambda: self._publish(topic, payload, retain=retain))

    async def control(self, commands: list[dict[str, object]]) -> None:
        """Run dynsec commands; raise if the plugin reported an error for any of them."""
        if not commands:
            return
        async with self._lock:
            await self._retrying(lambda: self._control(commands))

    async def close(self) -> None:
        """Disconnect cleanly (if connected)."""
        async with self._lock:
            writer, self._reader, self._writer = self._writer, None, None
            if writer is None:
                return
            with contextlib.suppress(OSError, ssl.SSLError):
                writer.write(b"\xe0\x00")
                await writer.drain()
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    async def _retrying(self, operation: Callable[[], object]) -> None:
        """Run ``operation`` (connecting first); after a broken link, reconnect once and retry."""
        async with asyncio.timeout(LINK_TIMEOUT):
            for attempt in (1, 2):
                try:
                    if self._writer is None:
                        await self._connect()
                    await operation()  # type: ignore[misc]
                    return
                except OSError, ssl.SSLError, asyncio.IncompleteReadError:
                    self._drop()
                    if attempt == 2:
                        raise

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    def _next_id(self) -> bytes:
        self._packet_id = self._packet_id % 65535 + 1
        return self._packet_id.to_bytes(2, "big")

    async def _send(self, first: int, body: bytes) -> None:
        assert self._writer is not None
        self._writer.write(bytes([first]) + _remaining_length(len(body)) + body)
        await self._writer.drain()

    async def _receive(self) -> tuple[int, bytes]:
        assert self._reader is not None
        first = (await self._reader.readexactly(1))[0]
        length, shift = 0, 0
        while True:
            digit = (await self._reader.readexactly(1))[0]
            length += (digit & 0x7F) << shift
            shift += 7
            if not digit & 0x80:
                break
        return first, await self._reader.readexactly(length)

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            self.broker.host, self.broker.port_mtls, ssl=self._ssl
        )
        client_id = f"{ADMIN_CN}-{uuid.uuid4().hex[:8]}"
        # Protocol "MQTT" level 4 (3.1.1), clean session, keepalive 0 (none).
        await self._send(0x10, _string("MQTT") + b"\x04\x02\x00\x00" + _string(client_id))
        first, body = await self._receive()
        if first >> 4 != 2 or body[1] != 0:
            raise ConnectionRefusedError(f"CONNACK {body!r}")
        packet_id = self._next_id()
        await self._send(0x82, packet_id + _string(RESPONSE_TOPIC) + b"\x00")
        while True:
            first, body = await self._receive()
            if first >> 4 == 9 and body[:2] == packet_id:
                if body[2] == 0x80:
                    raise ConnectionRefusedError("dynsec response topic refused")
                return

    async def _publish(self, topic: str, payload: bytes, *, retain: bool) -> None:
        packet_id = self._next_id()
        await self._send(0x32 | int(retain), _string(topic) + packet_id + payload)
        while True:
            first, body = await self._receive()
            if first >> 4 == 4 and body[:2] == packet_id:
                return

    async def _control(self, commands: list[dict[str, object]]) -> None:
        tag = uuid.uuid4().hex
        tagged = [
            {**command, "correlationData": f"{tag}-{i}"} for i, command in enumerate(commands)
        ]
        packet_id = self._next_id()
        payload = json.dumps({"commands": tagged}).encode()
        await self._send(0x32, _string(CONTROL_TOPIC) + packet_id + payload)
        acked = False
        responses: list[dict[str, object]] | None = None
        while not acked or responses is None:
            first, body = await self._receive()
            if first >> 4 == 4 and body[:2] == packet_id:
                acked = True
            elif first >> 4 == 3:
                topic_length = int.from_bytes(body[:2], "big")
                start = 2 + topic_length + (2 if first & 0x06 else 0)
                answer = json.loads(body[start:])
                ours = [
                    response
                    for response in answer.get("responses", [])
                    if str(response.get("correlationData", "")).startswith(tag)
                ]
                if ours:
                    responses = ours
        errors = [response for response in responses if response.get("error")]
        if errors:
            raise RuntimeError(f"dynsec refused: {errors}")
