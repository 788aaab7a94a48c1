"""When PEM certificates expire, and how many days are left (no I/O, no Home Assistant).

A broker entry's client certificate and custom CA are pasted PEM text; the ThermoMaven
client certificate comes from the cloud's P12. Both are read here.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.x509.oid import NameOID

_DAY = timedelta(days=1)


class InvalidCertificateError(ValueError):
    """The text holds no readable PEM certificate."""


@dataclass(frozen=True, slots=True)
class Expiry:
    """The end of validity of one certificate, and whose it is."""

    subject: str
    not_after: datetime  # UTC

    def days_left(self, now: datetime) -> int:
        """Return the whole days left at `now`: 0 on its last day, negative once past."""
        return (self.not_after - now) // _DAY

    def expired(self, now: datetime) -> bool:
        """Tell whether the certificate is no longer valid at `now`."""
        return now >= self.not_after

    def expires_within(self, now: datetime, period: timedelta) -> bool:
        """Tell whether the certificate ends within `period` from `now` (or has ended)."""
        return self.not_after - now <= period


def _load(pem: str) -> list[x509.Certificate]:
    """Return every certificate of the PEM text; InvalidCertificateError if there is none."""
    try:
        return x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeError) as err:
        raise InvalidCertificateError("not a PEM certificate") from err


def _subject(cert: x509.Certificate) -> str:
    """Return the certificate's common name, else its whole subject (RFC 4514)."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names and isinstance(value := names[0].value, str) and value:
        return value
    return cert.subject.rfc4514_string() or f"serial {cert.serial_number:x}"


def certificate_expiry(cert_pem: str) -> datetime:
    """Return the (UTC) end of validity of the first certificate of the PEM text."""
    return _load(cert_pem)[0].not_valid_after_utc


def earliest_expiry(pem: str) -> Expiry:
    """Return the certificate of the PEM text (one, a chain or a CA bundle) to expire first.

    Whichever certificate of a chain or a bundle ends first is the one that breaks the
    connection first. Raises InvalidCertificateError when the text holds none.
    """
    cert = min(_load(pem), key=lambda c: c.not_valid_after_utc)
    return Expiry(_subject(cert), cert.not_valid_after_utc)
