"""The fake ThermoMaven cloud: one account, its devices, the REST server and the broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from . import messages
from .certificates import CertificateDesk
from .commands import apply
from .devices import Device, Probe, default_devices
from .mqtt_broker import CloudLink, CloudMosquitto
from .pki import CERTIFICATE_DAYS, CloudCA
from .records import Failure, IssuedCertificate, Published, RecordedCommand, RecordedRequest
from .server import RestServer

US_REGIONS = frozenset({"US", "CA", "AU", "NZ"})


class FakeThermoMavenCloud:
    """State and test controls of the fake cloud; see the module docs of ``fixtures``."""

    def __init__(
        self,
        directory: Path,
        *,
        email: str = "user@example.com",
        password: str = "hunter2",
        devices: list[Device] | None = None,
    ) -> None:
        self.email = email
        self.password = password
        self.user_id = "291300000000000001"
        self.user_name = "Pit Master"
        self.unit = "F"
        self.reports_follow_unit = True  # reports (and commands) in the account's unit
        self.regions: set[str] = set(US_REGIONS)  # x-region values this data centre serves
        self.devices: dict[str, Device] = {d.device_id: d for d in devices or default_devices()}
        self.tokens: set[str] = set()
        self.last_token: str | None = None
        # Behaviour switches.
        self.single_session = True  # a login invalidates the tokens issued before
        self.device_list_on_rest = True  # REST device lists republish user:device:list
        self.receipts = True  # publish device:cmd:receipt for executed commands
        self.status_after_command = False  # publish a status report right after a receipt
        self.p12_with_chain = True  # the P12 also carries the CA certificate
        # Lifetime of new MQTT certificates in days (1 / 24: an hour; negative: expired).
        self.certificate_days = CERTIFICATE_DAYS
        self.cert_apply_extra: dict[str, Any] = {}  # merged into the cert-apply data
        # Records.
        self.requests: list[RecordedRequest] = []
        self.commands: list[RecordedCommand] = []
        self.published: list[Published] = []
        self.certificates: list[IssuedCertificate] = []
        self.logins = 0
        self.p12_downloads = 0
        self._failures: list[Failure] = []
        self._command_arrived = asyncio.Event()
        self._request_arrived = asyncio.Event()
        self._corrupt_md5 = 0
        self.ca = CloudCA(directory / "pki")
        self._granted = self._wanted_topics()
        self.broker = CloudMosquitto(self.ca, directory / "mosquitto", self.role, self._granted)
        self.link = CloudLink(self.broker)
        self._desk = CertificateDesk(self.ca, self.broker, self.link, self.role)
        https = self.ca.issue_server("https")
        self.rest = RestServer(self, str(https.cert_path), str(https.key_path))

    # ------------------------------------------------------------ lifecycle, addresses

    async def start(self) -> None:
        """Start the broker and the HTTPS server."""
        # Blocking work (process start, waiting for its log) off the event loop.
        await asyncio.get_running_loop().run_in_executor(None, self.broker.start)
        await self.rest.start()

    async def stop(self) -> None:
        """Stop everything (idempotent)."""
        with contextlib.suppress(OSError, TimeoutError):
            await self.link.close()
        await self.rest.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.broker.kill)

    @property
    def base_url(self) -> str:
        """REST base URL (https://127.0.0.1:<port>)."""
        return self.rest.base_url

    @property
    def ca_pem(self) -> str:
        """The CA to trust for HTTPS and MQTT (it also issues the MQTT client certificates)."""
        return self.ca.cert_pem

    @property
    def ca_path(self) -> Path:
        """``ca_pem`` as a file."""
        return self.ca.cert_path

    @property
    def mqtt_host(self) -> str:
        """The broker's address."""
        return self.broker.host

    @property
    def mqtt_port(self) -> int:
        """The mutual-TLS listener (the AWS IoT endpoint stand-in)."""
        return self.broker.port_mtls

    @property
    def user_topic(self) -> str:
        """``app/user/<userId>/sub``."""
        return f"app/user/{self.user_id}/sub"

    @property
    def role(self) -> str:
        """The dynsec role of the account's certificates."""
        return f"account-{self.user_id}"

    @property
    def report_unit(self) -> str:
        """The unit of reported and commanded temperatures."""
        return self.unit if self.reports_follow_unit else "F"

    # ------------------------------------------------------------ controls

    def set_unit(self, unit: str) -> None:
        """The account's temperatureUnit ("C" or "F")."""
        if unit not in ("C", "F"):
            raise ValueError(unit)
        self.unit = unit

    def device(self, device_id: str) -> Device:
        """A device of the account."""
        return self.devices[device_id]

    def probe(self, device_id: str, color: str) -> Probe:
        """A probe of a device; change its attributes, then ``publish_status``."""
        return self.devices[device_id].probe(color)

    async def add_device(self, device: Device, *, announce: bool = True) -> None:
        """Bind (or share) ``device``; grant its topic; publish user:device:list if ``announce``."""
        self.devices[device.device_id] = device
        await self._sync_rights()
        if announce:
            await self.publish_device_list()

    async def remove_device(self, device_id: str, *, announce: bool = True) -> Device:
        """Unbind a device; revoke its topic; publish user:device:list if ``announce``."""
        device = self.devices.pop(device_id)
        await self._sync_rights()
        if announce:
            await self.publish_device_list()
        return device

    def add_probe(self, device_id: str, probe: Probe) -> None:
        """Add a probe slot."""
        self.devices[device_id].probes.append(probe)

    def remove_probe(self, device_id: str, color: str) -> None:
        """Remove a probe slot."""
        device = self.devices[device_id]
        device.probes.remove(device.probe(color))

    def dock_probe(self, device_id: str, color: str) -> None:
        """Put a probe in the base (its cook ends; reports shrink to a stub)."""
        probe = self.probe(device_id, color)
        probe.end_cook()
        probe.docked = True

    def undock_probe(self, device_id: str, color: str) -> None:
        """Take a probe out of the base (idle, not inserted)."""
        probe = self.probe(device_id, color)
        probe.docked = False
        probe.cooking_state = "idle"
        probe.inserted = False

    def set_online(self, device_id: str, online: bool) -> None:
        """Online/offline base station (offline reports carry only globalStatus)."""
        self.devices[device_id].online = online

    def expire_tokens(self) -> None:
        """Every token issued so far stops working."""
        self.tokens.clear()

    def take_over_session(self) -> str:
        """The phone app logs in: earlier tokens die; return the phone's token."""
        self.tokens = {token := messages.new_id()}
        return token

    async def revoke_certificates(self) -> list[IssuedCertificate]:
        """Every MQTT certificate issued so far stops working, as AWS IoT's inactive ones.

        Clients using them are disconnected, and their TLS handshake fails from then on
        (a CRL: mosquitto cannot answer CONNACK 5 to a certificate client; see
        ``certificates``). Certificates issued afterwards work. Returns those revoked now.
        """
        revoked = [certificate for certificate in self.certificates if not certificate.revoked]
        await self._desk.revoke(revoked)
        return revoked

    async def set_unreachable(self, mode: str = "refuse") -> None:
        """REST stops answering: "refuse" (connections refused), "close" or "503"."""
        await self.rest.set_mode(mode)

    async def set_reachable(self) -> None:
        """REST answers again."""
        await self.rest.set_mode(None)

    async def stop_mqtt(self, *, crash: bool = True) -> None:
        """MQTT outage: kill the broker (``crash``) or stop it gracefully."""
        end = self.broker.kill if crash else self.broker.stop
        await asyncio.get_running_loop().run_in_executor(None, end)

    async def start_mqtt(self) -> None:
        """The broker is back on the same port, with every right granted so far."""
        await asyncio.get_running_loop().run_in_executor(None, self.broker.restart)

    def fail_next(
        self, code: str, msg: str = "Simulated failure", *, count: int = 1, path: str | None = None
    ) -> None:
        """Answer the next ``count`` correctly signed calls (to ``path``) with ``code``."""
        self._failures.append(Failure(code, msg, count, path))

    def corrupt_next_md5(self, count: int = 1) -> None:
        """The next ``count`` certificate answers carry a p12Md5 that does not match."""
        self._corrupt_md5 += count

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded calls to ``path``."""
        return [request for request in self.requests if request.path == path]

    async def wait_for_requests(self, path: str, count: int, timeout: float = 15.0) -> None:
        """Wait until ``path`` has been called ``count`` times in all."""
        async with asyncio.timeout(timeout):
            while len(self.requests_to(path)) < count:
                self._request_arrived.clear()
                await self._request_arrived.wait()

    # ------------------------------------------------------------ MQTT

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Publish ``message`` as compact JSON (QoS 1), and record it."""
        payload = json.dumps(message, separators=(",", ":")).encode()
        await self.link.publish(topic, payload)
        self.published.append(Published(topic, message))

    async def publish_status(self, device_id: str) -> dict[str, Any]:
        """Publish the device's ``<MODEL>:status:report`` on its topic; return it."""
        device = self.devices[device_id]
        report = messages.status_report(device, self.user_id, self.report_unit)
        device.last_status = report
        await self.publish(device.topic, report)
        return report

    async def publish_device_list(self) -> dict[str, Any]:
        """Publish ``user:device:list`` on the user topic; return it."""
        listing = messages.device_list(list(self.devices.values()), self.user_id, self.report_unit)
        await self.publish(self.user_topic, listing)
        return listing

    def mqtt_log_mark(self) -> int:
        """A position in the broker log, for ``wait_for_subscription(since=...)``."""
        return self.broker.log_mark()

    async def wait_for_subscription(
        self, topic: str, *, client_id: str | None = None, since: int = 0, timeout: float = 15.0
    ) -> str:
        """Wait until the broker granted a subscription to ``topic``; return the client id."""
        return await self.broker.wait_for_subscription(
            topic, client_id=client_id, since=since, timeout=timeout
        )

    def _wanted_topics(self) -> set[str]:
        return {self.user_topic} | {device.topic for device in self.devices.values()}

    async def _sync_rights(self) -> None:
        """Make the account role's topics the user topic plus every device topic."""
        wanted = self._wanted_topics()
        commands: list[dict[str, object]] = []
        for kind in ("subscribeLiteral", "publishClientReceive"):
            acl = {"rolename": self.role, "acltype": kind}
            commands += [
                {"command": "addRoleACL", **acl, "topic": topic, "allow": True}
                for topic in sorted(wanted - self._granted)
            ]
            commands += [
                {"command": "removeRoleACL", **acl, "topic": topic}
                for topic in sorted(self._granted - wanted)
            ]
        await self.link.control(commands)
        self._granted = wanted

    # ------------------------------------------------------------ used by the REST server

    def record_request(self, path: str, headers: dict[str, str], body: str) -> RecordedRequest:
        """Record an incoming call."""
        request = RecordedRequest(path, headers, body)
        self.requests.append(request)
        self._request_arrived.set()
        return request

    def take_failure(self, path: str) -> tuple[str, str] | None:
        """The code and message to answer instead, if ``fail_next`` asked for one."""
        for failure in self._failures:
            if failure.path in (None, path):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure.code, failure.msg
        return None

    def new_session(self) -> str:
        """A successful login: a new token (the only valid one with ``single_session``)."""
        self.logins += 1
        token = messages.new_id()
        if self.single_session:
            self.tokens.clear()
        self.tokens.add(token)
        self.last_token = token
        return token

    async def issue_certificate(self, *, region: str, install_id: str) -> IssuedCertificate:
        """A new client certificate with the account's rights, packed as a P12."""
        corrupt = self._corrupt_md5 > 0
        if corrupt:
            self._corrupt_md5 -= 1
        certificate = await self._desk.issue(
            f"android-{self.user_id}-{region}-{install_id}",
            days=self.certificate_days,
            with_chain=self.p12_with_chain,
            corrupt_md5=corrupt,
        )
        self.certificates.append(certificate)
        return certificate

    def certificate_at(self, url_path: str) -> IssuedCertificate | None:
        """The certificate whose p12Url has this path."""
        for certificate in self.certificates:
            if certificate.url_path == url_path:
                return certificate
        return None

    def record_command(
        self,
        device_id: str,
        cmd_type: str,
        cmd_id: str,
        cmd_data: dict[str, Any],
        body: dict[str, Any],
    ) -> RecordedCommand:
        """Record a command accepted by /app/command/send."""
        command = RecordedCommand(device_id, cmd_type, cmd_id, cmd_data, body)
        self.commands.append(command)
        self._command_arrived.set()
        return command

    async def wait_for_command(self, cmd_id: str, timeout: float = 15.0) -> RecordedCommand:
        """The command ``cmd_id`` once handled (receipt published, or skipped when offline)."""
        async with asyncio.timeout(timeout):
            while True:
                for command in self.commands:
                    if command.cmd_id == cmd_id:
                        await command.done.wait()
                        return command
                self._command_arrived.clear()
                await self._command_arrived.wait()

    async def execute(self, command: RecordedCommand) -> None:
        """The device executes the command (if online) and answers with a receipt."""
        try:
            await self._execute(command)
        finally:
            command.done.set()

    async def _execute(self, command: RecordedCommand) -> None:
        device = self.devices.get(command.device_id)
        if device is None or not device.online:
            return
        outcome = apply(device, command.cmd_type, command.cmd_data, self.report_unit)
        command.cmd_error = outcome.cmd_error
        if self.receipts:
            await self.publish(
                device.topic,
                messages.receipt(
                    device, self.user_id, command.cmd_id, command.cmd_type, outcome.cmd_error
                ),
            )
        if outcome.report_now or self.status_after_command:
            await self.publish_status(device.device_id)
