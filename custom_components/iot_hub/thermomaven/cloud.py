"""Where a ThermoMaven entry finds the cloud: REST base URL, MQTT endpoint, CA to trust.

In production everything comes from the region table (`core.thermomaven.regions`) and
from the cloud's own answers (a certificate grant may name its MQTT endpoint), with the
system CA store. Users never choose an endpoint.

The one test override: a test points the integration at another cloud (the fake one in
`tests/thermomaven_cloud`) by storing a `CloudEndpoints` under `ENDPOINTS_OVERRIDE` in
`hass.data` before the config flow or the entry runs::

    hass.data[ENDPOINTS_OVERRIDE] = CloudEndpoints(
        base_url=cloud.base_url, mqtt_host=cloud.mqtt_host, mqtt_port=cloud.mqtt_port,
        ca_pem=cloud.ca_pem,
    )

REST then goes to `base_url` with a session trusting only `ca_pem`, and MQTT to
`mqtt_host:mqtt_port` with the same CA.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import ssl
from typing import Final

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from ..core.thermomaven.api import ThermoMavenApi
from ..core.thermomaven.models import CertificateGrant
from ..core.thermomaven.regions import DataCentre, Region

# The AWS IoT endpoints of the two data centres (us-west-2 and eu-central-1, from the
# public protocol notes), used when the certificate grant does not name one.
MQTT_ENDPOINTS: Final[dict[DataCentre, str]] = {
    DataCentre.US: "a2ubmaqm3a642j-ats.iot.us-west-2.amazonaws.com",
    DataCentre.DE: "a2ubmaqm3a642j-ats.iot.eu-central-1.amazonaws.com",
}
MQTT_PORT: Final = 8883


@dataclass(frozen=True, slots=True)
class CloudEndpoints:
    """Another cloud to talk to (tests only; see the module docstring)."""

    base_url: str
    mqtt_host: str
    mqtt_port: int
    ca_pem: str


ENDPOINTS_OVERRIDE: HassKey[CloudEndpoints] = HassKey("iot_hub_thermomaven_endpoints")


def endpoints_override(hass: HomeAssistant) -> CloudEndpoints | None:
    """Return the test override, None in production."""
    return hass.data.get(ENDPOINTS_OVERRIDE)


def mqtt_endpoint(
    hass: HomeAssistant, region: Region, grant: CertificateGrant
) -> tuple[str, int, str | None]:
    """Return (host, port, CA PEM or None for the system store) of the account's broker."""
    if (override := endpoints_override(hass)) is not None:
        return override.mqtt_host, override.mqtt_port, override.ca_pem
    host = grant.endpoint or MQTT_ENDPOINTS[region.data_centre]
    return host, grant.port or MQTT_PORT, None


def _trusting(ca_pem: str) -> ssl.SSLContext:
    """Return a client SSL context trusting only `ca_pem` (blocking: executor)."""
    context = ssl.create_default_context(cadata=ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@asynccontextmanager
async def cloud_api(
    hass: HomeAssistant, *, country: str, install_id: str
) -> AsyncIterator[ThermoMavenApi]:
    """Yield a REST client of the account's data centre (RegionError for an unknown country).

    Home Assistant's shared session in production; with the test override, a session of
    its own trusting the override's CA, closed on exit.
    """
    override = endpoints_override(hass)
    if override is None:
        yield ThermoMavenApi(async_get_clientsession(hass), region=country, device_sn=install_id)
        return
    context = await hass.async_add_executor_job(_trusting, override.ca_pem)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    try:
        yield ThermoMavenApi(
            session, region=country, device_sn=install_id, base_url=override.base_url
        )
    finally:
        await session.close()
