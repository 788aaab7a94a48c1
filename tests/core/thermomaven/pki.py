"""A throwaway PKI made with `cryptography`: a CA, a 127.0.0.1 server cert, client P12s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

NOT_AFTER = datetime(2036, 1, 2, 3, 4, 5, tzinfo=UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class Pki:
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate
    server_cert_path: Path
    server_key_path: Path

    @property
    def ca_pem(self) -> str:
        return _pem(self.ca_cert).decode()

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.server_cert_path, self.server_key_path)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only the test CA (how a test points at a fake cloud)."""
        return ssl.create_default_context(cadata=self.ca_pem)

    def issue(
        self,
        common_name: str,
        key: ec.EllipticCurvePrivateKey | None = None,
        *,
        server: bool = False,
        not_after: datetime = NOT_AFTER,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = key or ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        return key, builder.sign(self.ca_key, hashes.SHA256())

    def client_p12(
        self,
        password: str,
        *,
        with_ca: bool = True,
        legacy: bool = False,
        not_after: datetime = NOT_AFTER,
    ) -> bytes:
        """A P12 like the cloud's: client cert + key (+ the CA), password-protected."""
        key, cert = self.issue("android-291300000000000001-US", not_after=not_after)
        encryption: serialization.KeySerializationEncryption
        if legacy:
            encryption = (
                serialization.PrivateFormat.PKCS12.encryption_builder()
                .kdf_rounds(2048)
                .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                .hmac_hash(hashes.SHA1())
                .build(password.encode())
            )
        else:
            encryption = serialization.BestAvailableEncryption(password.encode())
        return pkcs12.serialize_key_and_certificates(
            b"client", key, cert, [self.ca_cert] if with_ca else None, encryption
        )


def generate_pki(directory: Path) -> Pki:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime(2025, 1, 1, tzinfo=UTC)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("ThermoMaven test CA"))
        .issuer_name(_name("ThermoMaven test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650 * 2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(ca_key, ca_cert, directory / "server.crt", directory / "server.key")
    server_key, server_cert = pki.issue("127.0.0.1", server=True)
    pki.server_cert_path.write_bytes(_pem(server_cert))
    pki.server_key_path.write_bytes(_key_pem(server_key))
    return pki
