"""When PEM certificates end: one, a chain, a CA bundle; days left; unreadable text."""

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from custom_components.iot_hub.core.mqtt.certificates import (
    Expiry,
    InvalidCertificateError,
    certificate_expiry,
    earliest_expiry,
)

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)


def make_certificate(
    not_after: datetime, *, common_name: str | None = "client-1"
) -> tuple[str, str]:
    """Return a self-signed PEM certificate valid until `not_after`, and its PEM key."""
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iot_hub tests")]
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    name = x509.Name(attributes)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def pem_certificate(not_after: datetime, *, common_name: str | None = "client-1") -> str:
    """Return a self-signed PEM certificate valid until `not_after` (whole seconds)."""
    return make_certificate(not_after, common_name=common_name)[0]


def test_expiry_of_one_certificate() -> None:
    not_after = datetime(2030, 7, 1, 8, 30, tzinfo=UTC)
    pem = pem_certificate(not_after)
    assert certificate_expiry(pem) == not_after
    assert earliest_expiry(pem) == Expiry("client-1", not_after)


def test_a_chain_or_bundle_is_as_good_as_its_first_certificate_to_end() -> None:
    later = pem_certificate(datetime(2031, 1, 1, tzinfo=UTC), common_name="root CA")
    sooner = pem_certificate(datetime(2030, 7, 1, tzinfo=UTC), common_name="intermediate CA")
    bundle = f"{later}\n{sooner}"
    assert earliest_expiry(bundle) == Expiry("intermediate CA", datetime(2030, 7, 1, tzinfo=UTC))
    # certificate_expiry reads the first one (the leaf of a client certificate's chain).
    assert certificate_expiry(bundle) == datetime(2031, 1, 1, tzinfo=UTC)


def test_a_certificate_without_common_name_is_named_by_its_subject() -> None:
    pem = pem_certificate(NOW, common_name=None)
    assert earliest_expiry(pem).subject == "O=iot_hub tests"


@pytest.mark.parametrize(
    ("not_after", "days", "within_30", "expired"),
    [
        (NOW + timedelta(days=31), 31, False, False),
        (NOW + timedelta(days=30), 30, True, False),
        (NOW + timedelta(days=29, hours=23), 29, True, False),
        (NOW + timedelta(hours=1), 0, True, False),
        (NOW, 0, True, True),
        (NOW - timedelta(hours=1), -1, True, True),
        (NOW - timedelta(days=3), -3, True, True),
    ],
)
def test_days_left_and_expiring(
    not_after: datetime, days: int, within_30: bool, expired: bool
) -> None:
    expiry = Expiry("client-1", not_after)
    assert expiry.days_left(NOW) == days
    assert expiry.expires_within(NOW, timedelta(days=30)) is within_30
    assert expiry.expired(NOW) is expired


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "é",
    ],
)
def test_unreadable_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidCertificateError):
        certificate_expiry(text)
    with pytest.raises(InvalidCertificateError):
        earliest_expiry(text)
