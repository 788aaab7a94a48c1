"""Translated errors a broker entry raises to Home Assistant."""

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)

from ..const import DOMAIN
from ..core.mqtt.errors import CLIENT_CERT_REFUSALS, ConnectFailure, MqttConnectError, MqttError


def setup_error(
    err: MqttError, broker: str
) -> ConfigEntryAuthFailed | ConfigEntryError | ConfigEntryNotReady:
    """Map a failed start to reauth, a permanent error or a retry.

    Credentials refused: reauth. A client certificate the broker refuses (expired,
    from a CA it does not trust, or missing): an error saying to reconfigure the
    entry, as retrying cannot help. Anything else is retried, the broker's expired
    or unverifiable certificate included: its administrator may renew it or put the
    right one back, and the entry then loads by itself.
    """
    if not isinstance(err, MqttConnectError):
        return ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"broker": broker, "reason": str(err)},
        )
    placeholders = {"broker": broker, "reason": err.reason.value, "error": err.detail}
    if err.is_auth:
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders=placeholders,
        )
    if err.reason in CLIENT_CERT_REFUSALS:
        return _client_certificate_refused(err.reason, placeholders)
    return _not_ready(err.reason, placeholders)


def _client_certificate_refused(
    reason: ConnectFailure, placeholders: dict[str, str]
) -> ConfigEntryError:
    """Say the broker refused our client certificate: only reconfiguring the entry helps."""
    if reason is ConnectFailure.CLIENT_CERT_EXPIRED:
        return ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="client_cert_expired",
            translation_placeholders=placeholders,
        )
    if reason is ConnectFailure.CLIENT_CERT_REQUIRED:
        return ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="client_cert_required",
            translation_placeholders=placeholders,
        )
    return ConfigEntryError(
        translation_domain=DOMAIN,
        translation_key="client_cert_rejected",
        translation_placeholders=placeholders,
    )


def _not_ready(reason: ConnectFailure, placeholders: dict[str, str]) -> ConfigEntryNotReady:
    """Retry a failure the broker's side may end (with Home Assistant's backoff)."""
    if reason is ConnectFailure.CERTIFICATE_EXPIRED:
        return ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="certificate_expired",
            translation_placeholders=placeholders,
        )
    if reason is ConnectFailure.INVALID_CERTIFICATE:
        return ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="invalid_certificate",
            translation_placeholders=placeholders,
        )
    return ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders=placeholders,
    )


def service_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Build a translated refusal of an action's input."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def command_failed(device_id: str, err: MqttError) -> HomeAssistantError:
    """Build a translated failure to publish a command."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"device": device_id, "error": str(err)},
    )
