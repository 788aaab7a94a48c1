"""Errors raised by the MQTT client."""

from enum import StrEnum


class ConnectFailure(StrEnum):
    """Why a connection attempt failed; values double as config-flow error keys."""

    CANNOT_CONNECT = "cannot_connect"
    INVALID_AUTH = "invalid_auth"
    INVALID_CERTIFICATE = "invalid_certificate"
    TLS_ERROR = "tls_error"
    TIMEOUT = "timeout"
    INVALID_CA = "invalid_ca"
    INVALID_CLIENT_CERT = "invalid_client_cert"
    # The broker's certificate (or its CA's) has expired: its administrator renews it.
    CERTIFICATE_EXPIRED = "certificate_expired"
    # The broker's verdict on our client certificate (a TLS alert): the user renews it,
    # gets one from a CA the broker trusts, or adds one.
    CLIENT_CERT_EXPIRED = "client_cert_expired"
    CLIENT_CERT_REJECTED = "client_cert_rejected"
    CLIENT_CERT_REQUIRED = "client_cert_required"


# Failures only new TLS material can end: retrying with the same settings cannot help.
CLIENT_CERT_REFUSALS = frozenset(
    {
        ConnectFailure.CLIENT_CERT_EXPIRED,
        ConnectFailure.CLIENT_CERT_REJECTED,
        ConnectFailure.CLIENT_CERT_REQUIRED,
    }
)


class MqttError(Exception):
    """An MQTT operation failed."""


class MqttConnectError(MqttError):
    """Connecting to the broker failed for a known reason."""

    def __init__(self, reason: ConnectFailure, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail

    @property
    def is_auth(self) -> bool:
        """Whether the broker refused the credentials."""
        return self.reason is ConnectFailure.INVALID_AUTH


class MqttNotConnectedError(MqttError):
    """The operation needs a connection and there is none."""


class MqttTimeoutError(MqttError):
    """The broker did not acknowledge in time."""


class MqttSubscriptionRefusedError(MqttError):
    """The broker refused a subscription (SUBACK failure); the connection itself is fine."""
