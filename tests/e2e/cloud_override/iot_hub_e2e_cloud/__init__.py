"""Test only: point IoT Hub's ThermoMaven entries at the fake cloud of the end-to-end tests.

Never shipped: ``tests/e2e/harness.py`` copies this folder into the configuration directory
of the ``hass`` it runs (beside ``custom_components/iot_hub``) and adds to configuration.yaml::

    iot_hub_e2e_cloud:
      base_url: https://127.0.0.1:<port>
      mqtt_host: 127.0.0.1
      mqtt_port: <port>
      ca_pem: |
        -----BEGIN CERTIFICATE-----
        ...

At setup it stores those as the ``CloudEndpoints`` under ``ENDPOINTS_OVERRIDE``: the one
documented test override of ``custom_components/iot_hub/thermomaven/cloud.py``, which the
in-process tests set themselves (``tests/thermomaven/conftest.py``). REST and MQTT then go to
the fake cloud and trust its CA only, exactly as there; the product's code paths are unchanged.

Home Assistant sets this up from YAML during its startup, beside the config entries: the
tests add ThermoMaven accounts once the startup is over. An entry set up before this one would
talk to the real cloud: that is logged as an ERROR, which the tests' log scan counts.
"""

import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
import probatio

from custom_components.iot_hub.thermomaven.cloud import ENDPOINTS_OVERRIDE, CloudEndpoints

DOMAIN = "iot_hub_e2e_cloud"
_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = probatio.Schema(
    {
        DOMAIN: probatio.Schema(
            {
                probatio.Required("base_url"): cv.url,
                probatio.Required("mqtt_host"): cv.string,
                probatio.Required("mqtt_port"): cv.port,
                probatio.Required("ca_pem"): cv.string,
            }
        )
    },
    extra=probatio.ALLOW_EXTRA,
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Store the fake cloud's endpoints where IoT Hub's ThermoMaven code looks for them."""
    conf = config[DOMAIN]
    endpoints = CloudEndpoints(
        base_url=conf["base_url"],
        mqtt_host=conf["mqtt_host"],
        mqtt_port=conf["mqtt_port"],
        ca_pem=conf["ca_pem"],
    )
    hass.data[ENDPOINTS_OVERRIDE] = endpoints
    early = [
        entry.title
        for entry in hass.config_entries.async_entries("iot_hub")
        if entry.data.get("kind") == "thermomaven"
        and entry.state is not ConfigEntryState.NOT_LOADED
    ]
    if early:
        _LOGGER.error("ThermoMaven entries set up before the fake cloud override: %s", early)
    _LOGGER.info(
        "ThermoMaven cloud of the tests: REST %s, MQTT %s:%s",
        endpoints.base_url,
        endpoints.mqtt_host,
        endpoints.mqtt_port,
    )
    return True
