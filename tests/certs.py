"""Throw-away PKI for TLS and mutual-TLS tests.

Python >= 3.13 sets ``VERIFY_X509_STRICT`` on default client contexts, so every
certificate carries the extensions a strict RFC 5280 verifier insists on
(BasicConstraints, KeyUsage, SKI/AKI, SAN, EKU).
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CLIENT_CN = "device-1"


@dataclass(frozen=True, slots=True)
class Pki:
    """Paths and PEM text of the generated certificates and keys."""

    ca_cert: Path
    ca_cert_pem: str
    server_cert: Path
    server_cert_pem: str
    server_key: Path
    server_key_pem: str
    client_cert: Path
    client_cert_pem: str
    client_key: Path
    client_key_pem: str
    wrong_ca_cert: Path
    wrong_ca_cert_pem: str
    client_cn: str = CLIENT_CN


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iot_hub tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
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
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _make_ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    cert = (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_leaf(
    common_name: str,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    eku: x509.ObjectIdentifier,
    san: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(common_name), ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    # Traditional (SEC1) PEM: understood by both OpenSSL/mosquitto and Python's ssl.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _write(path: Path, text: str, *, private: bool = False) -> Path:
    path.write_text(text)
    if private:
        path.chmod(0o600)
    return path


def generate_pki(directory: Path) -> Pki:
    """Create a CA, server and client certificates plus an unrelated CA in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _make_ca("iot_hub test CA")
    server_cert, server_key = _make_leaf(
        "localhost",
        ca_cert,
        ca_key,
        eku=ExtendedKeyUsageOID.SERVER_AUTH,
        san=[
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
        ],
    )
    client_cert, client_key = _make_leaf(
        CLIENT_CN, ca_cert, ca_key, eku=ExtendedKeyUsageOID.CLIENT_AUTH
    )
    wrong_ca_cert, _ = _make_ca("iot_hub wrong CA")

    pems = {
        "ca_cert": _cert_pem(ca_cert),
        "server_cert": _cert_pem(server_cert),
        "server_key": _key_pem(server_key),
        "client_cert": _cert_pem(client_cert),
        "client_key": _key_pem(client_key),
        "wrong_ca_cert": _cert_pem(wrong_ca_cert),
    }
    return Pki(
        ca_cert=_write(directory / "ca.crt", pems["ca_cert"]),
        ca_cert_pem=pems["ca_cert"],
        server_cert=_write(directory / "server.crt", pems["server_cert"]),
        server_cert_pem=pems["server_cert"],
        server_key=_write(directory / "server.key", pems["server_key"], private=True),
        server_key_pem=pems["server_key"],
        client_cert=_write(directory / "client.crt", pems["client_cert"]),
        client_cert_pem=pems["client_cert"],
        client_key=_write(directory / "client.key", pems["client_key"], private=True),
        client_key_pem=pems["client_key"],
        wrong_ca_cert=_write(directory / "wrong-ca.crt", pems["wrong_ca_cert"]),
        wrong_ca_cert_pem=pems["wrong_ca_cert"],
    )
