"""The fake cloud's CA: HTTPS and broker server certificates, MQTT client certificates as P12.

Every certificate carries the extensions Python's strict X.509 verification wants
(see tests/certs.py). Client certificates use RSA-2048 keys like AWS IoT's. Certificates
are valid from a day before they are made until ``CERTIFICATE_DAYS`` after; a client
certificate may get any lifetime (negative: it expired that long ago). ``CloudCA.crl``
lists revoked certificates for the broker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

type PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CERTIFICATE_DAYS = 30.0  # lifetime of every certificate unless told otherwise
CRL_DAYS = 3650  # the CRL's nextUpdate: OpenSSL refuses every client once it has passed


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iot_hub fake ThermoMaven cloud"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: PrivateKey, days: float = CERTIFICATE_DAYS
) -> x509.CertificateBuilder:
    """Valid until ``days`` from now, from a day before that or before now (the earlier)."""
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, not_after) - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def cert_pem(cert: x509.Certificate) -> str:
    """PEM text of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: PrivateKey) -> str:
    """Unencrypted traditional PEM (understood by OpenSSL/mosquitto and Python's ssl)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True, slots=True)
class Leaf:
    """An issued certificate with its key, and where both were written (if they were)."""

    cert: x509.Certificate
    key: PrivateKey
    cert_path: Path | None = None
    key_path: Path | None = None

    @property
    def common_name(self) -> str:
        """The subject CN (mosquitto's username with ``use_identity_as_username``)."""
        return str(self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


class CloudCA:
    """A CA issuing every certificate of one fake cloud."""

    def __init__(self, directory: Path, common_name: str = "Fake ThermoMaven Root CA") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = _name(common_name)
        self.cert = (
            _builder(name, name, self.key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = cert_pem(self.cert)
        self.cert_path = directory / "ca.crt"
        self.cert_path.write_text(self.cert_pem)

    def _leaf(
        self,
        common_name: str,
        key: PrivateKey,
        eku: x509.ObjectIdentifier,
        san: list[x509.GeneralName] | None = None,
        days: float = CERTIFICATE_DAYS,
    ) -> x509.Certificate:
        builder = (
            _builder(_name(common_name), self.cert.subject, key, days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def _write(self, stem: str, cert: x509.Certificate, key: PrivateKey) -> Leaf:
        cert_path = self.directory / f"{stem}.crt"
        key_path = self.directory / f"{stem}.key"
        cert_path.write_text(cert_pem(cert))
        key_path.write_text(key_pem(key))
        key_path.chmod(0o600)
        return Leaf(cert, key, cert_path, key_path)

    def issue_server(self, stem: str) -> Leaf:
        """A server certificate for 127.0.0.1 / localhost, written to ``<stem>.crt/.key``."""
        key = ec.generate_private_key(ec.SECP256R1())
        san: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
        ]
        cert = self._leaf("localhost", key, ExtendedKeyUsageOID.SERVER_AUTH, san)
        return self._write(stem, cert, key)

    def issue_client(
        self, common_name: str, *, stem: str | None = None, days: float = CERTIFICATE_DAYS
    ) -> Leaf:
        """A client certificate valid for ``days`` (negative: expired that long ago).

        Written to ``<stem>.crt/.key`` when ``stem`` is given.
        """
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = self._leaf(common_name, key, ExtendedKeyUsageOID.CLIENT_AUTH, days=days)
        if stem is None:
            return Leaf(cert, key)
        return self._write(stem, cert, key)

    def crl(self, serials: Iterable[int] = ()) -> str:
        """PEM CRL revoking the certificates with these serial numbers (none: an empty CRL)."""
        now = dt.datetime.now(dt.UTC)
        since = now - dt.timedelta(days=1)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(since)
            .next_update(now + dt.timedelta(days=CRL_DAYS))
        )
        for serial in sorted(serials):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(since)
                .build()
            )
        crl = builder.sign(self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM).decode()

    def p12(self, leaf: Leaf, password: str, *, with_chain: bool = True) -> bytes:
        """The leaf as a password-protected PKCS#12 (older SHA1/3DES PBE, like vendor files)."""
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # what legacy P12 files use
            .build(password.encode())
        )
        return pkcs12.serialize_key_and_certificates(
            name=leaf.common_name.encode(),
            key=leaf.key,
            cert=leaf.cert,
            cas=[self.cert] if with_chain else None,
            encryption_algorithm=encryption,
        )
