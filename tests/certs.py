"""Throw-away PKI for TLS and mutual-TLS tests.

Python >= 3.13 sets ``VERIFY_X509_STRICT`` on default client contexts, so every
certificate carries the extensions a strict RFC 5280 verifier insists on
(BasicConstraints, KeyUsage, SKI/AKI, SAN, EKU).

Besides the good material: a second CA ("wrong CA") and a client certificate it
signed, and expired server and client certificates signed by the good CA (valid
from 60 days ago until yesterday), for the TLS fault tests.
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
# Validity of the good certificates, and of the expired ones (both relative to now).
VALID = (dt.timedelta(days=-1), dt.timedelta(days=30))
EXPIRED = (dt.timedelta(days=-60), dt.timedelta(days=-1))


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
    # Signed by the good CA, expired yesterday.
    expired_server_cert: Path
    expired_server_cert_pem: str
    expired_server_key: Path
    expired_server_key_pem: str
    expired_client_cert: Path
    expired_client_cert_pem: str
    expired_client_key: Path
    expired_client_key_pem: str
    # Valid, but signed by the wrong CA (which the broker does not trust).
    foreign_client_cert: Path
    foreign_client_cert_pem: str
    foreign_client_key: Path
    foreign_client_key_pem: str
    client_cn: str = CLIENT_CN
    # The test CA's key, for `issue_client_cert` (empty: a PKI made elsewhere, none issued).
    ca_key_pem: str = ""


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
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    validity: tuple[dt.timedelta, dt.timedelta] = VALID,
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + validity[0])
        .not_valid_after(now + validity[1])
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
    validity: tuple[dt.timedelta, dt.timedelta] = VALID,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(common_name), ca_cert.subject, key, validity)
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


SERVER_SAN: list[x509.GeneralName] = [
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
]


def generate_pki(directory: Path) -> Pki:
    """Create the test CA, its certificates and the wrong CA's in ``directory``.

    Good: CA, server (localhost, 127.0.0.1) and client certificates. Faulty: an
    unrelated CA and a client certificate it signed; expired server and client
    certificates signed by the good CA.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _make_ca("iot_hub test CA")
    server = ExtendedKeyUsageOID.SERVER_AUTH
    client = ExtendedKeyUsageOID.CLIENT_AUTH
    wrong_ca_cert, wrong_ca_key = _make_ca("iot_hub wrong CA")
    material = {
        "server": _make_leaf("localhost", ca_cert, ca_key, eku=server, san=SERVER_SAN),
        "client": _make_leaf(CLIENT_CN, ca_cert, ca_key, eku=client),
        "expired_server": _make_leaf(
            "localhost", ca_cert, ca_key, eku=server, san=SERVER_SAN, validity=EXPIRED
        ),
        "expired_client": _make_leaf(CLIENT_CN, ca_cert, ca_key, eku=client, validity=EXPIRED),
        "foreign_client": _make_leaf(CLIENT_CN, wrong_ca_cert, wrong_ca_key, eku=client),
    }
    fields: dict[str, Path | str] = {"ca_key_pem": _key_pem(ca_key)}
    for stem, cert in (("ca", ca_cert), ("wrong_ca", wrong_ca_cert)):
        fields[f"{stem}_cert_pem"] = pem = _cert_pem(cert)
        fields[f"{stem}_cert"] = _write(directory / f"{stem.replace('_', '-')}.crt", pem)
    for stem, (cert, key) in material.items():
        name = stem.replace("_", "-")
        fields[f"{stem}_cert_pem"] = cert_pem = _cert_pem(cert)
        fields[f"{stem}_cert"] = _write(directory / f"{name}.crt", cert_pem)
        fields[f"{stem}_key_pem"] = key_pem = _key_pem(key)
        fields[f"{stem}_key"] = _write(directory / f"{name}.key", key_pem, private=True)
    return Pki(**fields)  # type: ignore[arg-type]  # the names match the fields


def issue_client_cert(pki: Pki, lifetime: dt.timedelta) -> tuple[str, str]:
    """Return the PEM certificate and key of a client certificate from the test CA.

    It is valid from a day ago for ``lifetime`` from now (X.509 counts whole seconds).
    """
    assert pki.ca_key_pem, "this PKI has no CA key to issue with"
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert_pem.encode())
    ca_key = serialization.load_pem_private_key(pki.ca_key_pem.encode(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    cert, key = _make_leaf(
        CLIENT_CN,
        ca_cert,
        ca_key,
        eku=ExtendedKeyUsageOID.CLIENT_AUTH,
        validity=(VALID[0], lifetime),
    )
    return _cert_pem(cert), _key_pem(key)
