"""Constants of the IoT Hub integration."""

from typing import Final

DOMAIN: Final = "iot_hub"

# Broker entry data (connection settings).
CONF_TRANSPORT: Final = "transport"
CONF_WS_PATH: Final = "ws_path"
CONF_TLS: Final = "tls"
CONF_CA_PEM: Final = "ca_pem"
CONF_CLIENT_CERT_PEM: Final = "client_cert_pem"
CONF_CLIENT_KEY_PEM: Final = "client_key_pem"
CONF_KEEPALIVE: Final = "keepalive"
CONF_PROTOCOL: Final = "protocol"
CONF_CLIENT_ID: Final = "client_id"

# ThermoMaven entry data (the account). The plaintext password is never stored: the cloud
# logs in with its MD5, which is what the entry keeps (with the last token).
CONF_PASSWORD_MD5: Final = "password_md5"  # noqa: S105 (a key name, not a password)
# The x-deviceSn install id this entry logs in with (stable: it is part of the MQTT client id).
CONF_INSTALL_ID: Final = "install_id"
# The account's temperature unit ("C"/"F") as its last login said: reports carry tenths of
# it without saying which, and a stored token means no login at start.
CONF_TEMPERATURE_UNIT: Final = "temperature_unit"

# Broker entry options (behaviour, not connection).
CONF_CLEAN_SESSION: Final = "clean_session"
CONF_AVAILABILITY_GRACE: Final = "availability_grace"
# Publish incident changes on <dht11 base>/incidents and /alerts for the users' own system.
CONF_PUBLISH_INCIDENTS: Final = "publish_incidents"

DEFAULT_PORT: Final = 1883
DEFAULT_WS_PATH: Final = "/mqtt"
DEFAULT_KEEPALIVE: Final = 60
DEFAULT_AVAILABILITY_GRACE: Final = 30


# Topic families (options): enabled flag and base topic per family.
CONF_OFFLINE_TIMEOUT: Final = "offline_timeout"
CONF_EVENT_OFF_DELAY: Final = "event_off_delay"
DEFAULT_OFFLINE_TIMEOUT: Final = 10  # minutes
DEFAULT_EVENT_OFF_DELAY: Final = 30  # seconds
# Devices one entry may create (Home Assistant stops adding entities at 10,000 per entry,
# and a device has 3 to 6 of them), and the pattern new device ids must fully match.
CONF_MAX_DEVICES: Final = "max_devices"
CONF_DEVICE_ID_PATTERN: Final = "device_id_pattern"
DEFAULT_MAX_DEVICES: Final = 1000
MAX_MAX_DEVICES: Final = 1500
# How often silent devices are looked for.
SILENCE_CHECK_SECONDS: Final = 30

# The hub device's own listeners use this pseudo device id.
HUB_DEVICE: Final = "__hub__"

# Repair issues (ids are suffixed with the entry id; the keys are the translation keys).
ISSUE_DEVICE_LIMIT: Final = "device_limit"
ISSUE_SUBSCRIPTION_REFUSED: Final = "subscription_refused"
ISSUE_SESSION_TAKEN_OVER: Final = "session_taken_over"
ISSUE_DUPLICATE_CLIENT_ID: Final = "duplicate_client_id"
# A broker entry's client certificate or custom CA ends within 30 days, or has ended: one
# issue per certificate (its id is the "expiring" key's), under either translation key.
ISSUE_CLIENT_CERT_EXPIRING: Final = "client_certificate_expiring"
ISSUE_CLIENT_CERT_EXPIRED: Final = "client_certificate_expired"
ISSUE_CA_CERT_EXPIRING: Final = "ca_certificate_expiring"
ISSUE_CA_CERT_EXPIRED: Final = "ca_certificate_expired"
# A broker entry could not connect for a day (setup retries or reconnects alike).
ISSUE_BROKER_UNREACHABLE: Final = "broker_unreachable"

SERVICE_SEND_COMMAND: Final = "send_command"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_PAYLOAD: Final = "payload"


def conf_enabled(family: str) -> str:
    """Option key: whether a topic family is subscribed."""
    return f"{family}_enabled"


def conf_base(family: str) -> str:
    """Option key: a topic family's base topic."""
    return f"{family}_base"


# Fired for every phase of an incident (opened, escalated, acknowledged...).
EVENT_INCIDENT: Final = "iot_hub_incident"
# Fired for each motion / pressure event, for device triggers.
EVENT_DEVICE: Final = "iot_hub_device_event"
SERVICE_ACKNOWLEDGE_INCIDENT: Final = "acknowledge_incident"
SERVICE_RESOLVE_INCIDENT: Final = "resolve_incident"
ATTR_INCIDENT_ID: Final = "incident_id"
ATTR_NOTE: Final = "note"
ATTR_SOURCE: Final = "source"
