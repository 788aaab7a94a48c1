"""The account's MQTT connection settings: a client certificate from the cloud, its broker.

A fresh certificate is applied for at every start and renewal (the cloud issues them for
about a day); the P12 becomes PEM off the event loop, and the MQTT client writes the
certificate and key (0600) under the entry's storage folder, deleted with the entry.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..core.mqtt.settings import BrokerSettings, TlsMode, TlsSettings
from ..core.thermomaven.certificates import p12_to_pem
from ..core.thermomaven.regions import Region
from ..core.thermomaven.topics import valid_subscription
from .account import AccountSession
from .cloud import mqtt_endpoint

# The EU data centre's own MQTT parameters say heartbeatSec 30 (public protocol notes).
KEEPALIVE: Final = 30
# Renew this long before the certificate expires (or at 80 % of a shorter remaining life).
RENEW_BEFORE: Final = timedelta(hours=1)
MIN_RENEW_DELAY: Final = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class MqttAccess:
    """What a certificate grant gives: broker settings, topics to subscribe, expiry."""

    settings: BrokerSettings
    sub_topics: tuple[str, ...]
    expires: datetime

    def renew_in(self, now: datetime | None = None) -> timedelta:
        """Return when to renew the certificate (never sooner than MIN_RENEW_DELAY)."""
        remaining = self.expires - (now or dt_util.utcnow())
        wait = remaining - RENEW_BEFORE if remaining > RENEW_BEFORE * 5 else remaining * 0.8
        return max(wait, MIN_RENEW_DELAY)


async def async_mqtt_access(
    hass: HomeAssistant,
    session: AccountSession,
    *,
    region: Region,
    user_id: str,
    install_id: str,
    tls_dir: Path,
) -> MqttAccess:
    """Apply for a client certificate and return how to connect with it.

    Raise the core client's errors (AuthError, CloudUnavailable, UnexpectedAnswer,
    CertificateError…); AuthError has already started reauth.
    """
    grant = await session.call(lambda api: api.apply_certificate(), wait=True)
    p12 = await session.call(lambda api: api.download_p12(grant), wait=True)
    material = await hass.async_add_executor_job(p12_to_pem, p12, grant.p12_password)
    host, port, ca_pem = mqtt_endpoint(hass, region, grant)
    # The cloud's client id (§2.1: AWS IoT drops a second connection with the same id);
    # the apps' own shape if the grant lacks one.
    client_id = grant.client_id or f"android-{user_id}-{region.code}-{install_id}"
    settings = BrokerSettings(
        host=host,
        port=port,
        client_id=client_id,
        tls=TlsSettings(
            mode=TlsMode.CUSTOM_CA if ca_pem else TlsMode.SYSTEM_CA,
            ca_pem=ca_pem,
            client_cert_pem=material.cert_pem,
            client_key_pem=material.key_pem,
        ),
        keepalive=KEEPALIVE,
        clean_session=True,
        tls_dir=tls_dir,
    )
    topics = tuple(topic for topic in grant.sub_topics if valid_subscription(topic))
    return MqttAccess(settings, topics, material.not_valid_after)
