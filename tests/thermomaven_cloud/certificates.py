"""The account's MQTT client certificates: issued with the account's rights, and revoked.

Issuing makes an RSA certificate valid for ``days`` (negative: expired that long ago),
packs it as a P12 and creates the dynsec client named by its CN (the broker's username
for it, ``use_identity_as_username``) with the account's role.

Revoking stands in for AWS IoT deactivating a certificate. Measured on mosquitto 2.0.11:

- dynsec ``deleteClient`` disconnects a connected client at once (log: "Client <id> been
  disconnected by administrative action."; a v3.1.1 client just sees the socket close)
  and takes its rights away, but does not refuse its next CONNECT: with
  ``use_identity_as_username`` the certificate is the authentication and no plugin is
  asked, so the client gets CONNACK 0 and every SUBSCRIBE is refused (0x80).
  ``disableClient`` also disconnects, and the client then reconnects *and* subscribes
  as before. Neither can make the broker answer CONNACK 5 to a certificate client.
- A CRL does refuse it: the broker's listener checks ``crlfile``, and SIGHUP reloads it
  without dropping anyone. The revoked client's TLS handshake fails ("certificate verify
  failed" in the broker log, as for an expired certificate). With TLS 1.3 the client's
  side of the handshake completes first and the alert comes after: paho reports a
  disconnect ("Unspecified error"), not a CONNACK; an asyncio/ssl client gets
  ``ssl.SSLError`` "alert certificate revoked" (or "... expired") or, if it already
  wrote its CONNECT, ``ConnectionResetError``.

So ``revoke`` lists the certificates in the CRL, reloads it, then deletes their dynsec
clients (the kick): a client reconnecting right away already meets the new CRL.
"""

from __future__ import annotations

import asyncio

from . import messages
from .mqtt_broker import CloudLink, CloudMosquitto
from .pki import CloudCA, Leaf
from .records import IssuedCertificate
from .signing import md5_hex


class CertificateDesk:
    """Issues and revokes the MQTT client certificates of one account."""

    def __init__(self, ca: CloudCA, broker: CloudMosquitto, link: CloudLink, role: str) -> None:
        self.ca = ca
        self.broker = broker
        self.link = link
        self.role = role
        self.revoked_serials: set[int] = set()

    async def issue(
        self, client_id: str, *, days: float, with_chain: bool, corrupt_md5: bool
    ) -> IssuedCertificate:
        """A new certificate with the account's rights, packed as a P12."""
        cert_id = messages.new_id()[:12]
        password = messages.new_id()
        leaf, p12 = await asyncio.get_running_loop().run_in_executor(
            None, self._make_p12, f"tm-{cert_id}", password, days, with_chain
        )
        md5 = md5_hex(p12)
        if corrupt_md5:
            md5 = md5_hex(md5)
        await self.link.control(
            [
                {
                    "command": "createClient",
                    "username": leaf.common_name,
                    "roles": [{"rolename": self.role}],
                }
            ]
        )
        return IssuedCertificate(cert_id, leaf, client_id, password, p12, md5)

    def _make_p12(
        self, common_name: str, password: str, days: float, with_chain: bool
    ) -> tuple[Leaf, bytes]:
        """An RSA client certificate and its P12 (CPU-bound: run in an executor)."""
        leaf = self.ca.issue_client(common_name, days=days)
        return leaf, self.ca.p12(leaf, password, with_chain=with_chain)

    async def revoke(self, certificates: list[IssuedCertificate]) -> None:
        """Refuse ``certificates`` at the broker and disconnect whoever uses them.

        With the broker down, only the CRL changes: it is read at the next start, and the
        dynsec clients left behind cannot get past the handshake.
        """
        if not certificates:
            return
        self.revoked_serials |= {certificate.serial_number for certificate in certificates}
        await self.broker.load_crl(self.ca.crl(self.revoked_serials))  # EC signature: quick
        if self.broker.running:
            await self.link.control(
                [
                    {"command": "deleteClient", "username": certificate.common_name}
                    for certificate in certificates
                ]
            )
        for certificate in certificates:
            certificate.revoked = True
