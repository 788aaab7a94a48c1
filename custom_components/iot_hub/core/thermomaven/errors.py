"""Typed errors of the ThermoMaven REST client: the only exceptions it lets out."""


class ThermoMavenError(Exception):
    """A ThermoMaven cloud operation failed."""


class RegionError(ThermoMavenError, ValueError):
    """The country code is not in the captured region table."""


class AuthError(ThermoMavenError):
    """The cloud refused the credentials (or the client holds none)."""


class SignError(ThermoMavenError):
    """The cloud refused the request signature (code 40000): wrong app key or data centre."""


class CloudUnavailable(ThermoMavenError):
    """The cloud could not be reached: network error, timeout or HTTP 5xx."""


class UnexpectedAnswer(ThermoMavenError):
    """The cloud answered something malformed, too large, or an unknown error code."""

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.code = code


class ChecksumMismatch(UnexpectedAnswer):
    """The downloaded P12 does not have the MD5 the cloud announced."""


class CertificateError(ThermoMavenError):
    """The P12 cannot be opened (wrong password, corrupt, no certificate or no key)."""
