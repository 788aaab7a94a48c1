"""Translated errors a broker entry raises to Home Assistant."""

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)

from ..const import DOMAIN
from ..core.mqtt.errors import MqttConnectError, MqttError


def setup_error(err: MqttError, broker: str) -> ConfigEntryAuthFailed | ConfigEntryNotReady:
    """Map a failed start to reauth (credentials refused) or a retry (anything else)."""
    if isinstance(err, MqttConnectError):
        placeholders = {"broker": broker, "reason": err.reason.value}
        if err.is_auth:
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders=placeholders,
            )
    else:
        placeholders = {"broker": broker, "reason": str(err)}
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
