"""A broker entry's options, read once and typed: families, timings, limits, publishing."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
import re
from typing import Any

from ..const import (
    CONF_AVAILABILITY_GRACE,
    CONF_CLEAN_SESSION,
    CONF_EVENT_OFF_DELAY,
    CONF_MAX_DEVICES,
    CONF_OFFLINE_TIMEOUT,
    CONF_PUBLISH_INCIDENTS,
    DEFAULT_AVAILABILITY_GRACE,
    DEFAULT_EVENT_OFF_DELAY,
    DEFAULT_MAX_DEVICES,
    DEFAULT_OFFLINE_TIMEOUT,
    conf_base,
    conf_enabled,
)
from ..core.local.topics import DEFAULT_BASES, Family
from .devices import device_id_pattern


def family_bases(options: Mapping[str, Any]) -> dict[Family, str]:
    """Return enabled families and their base topics (all on by default)."""
    return {
        family: options.get(conf_base(family), default)
        for family, default in DEFAULT_BASES.items()
        if options.get(conf_enabled(family), True)
    }


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    """What the options flow stored, with the defaults filled in."""

    bases: dict[Family, str]
    clean_session: bool
    grace: float
    offline_timeout: timedelta
    off_delay: float
    max_devices: int
    pattern: re.Pattern[str] | None
    publish_incidents: bool

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> BrokerOptions:
        """Read an entry's options."""
        bases = family_bases(options)
        return cls(
            bases=bases,
            clean_session=bool(options.get(CONF_CLEAN_SESSION, False)),
            grace=float(options.get(CONF_AVAILABILITY_GRACE, DEFAULT_AVAILABILITY_GRACE)),
            offline_timeout=timedelta(
                minutes=float(options.get(CONF_OFFLINE_TIMEOUT, DEFAULT_OFFLINE_TIMEOUT))
            ),
            off_delay=float(options.get(CONF_EVENT_OFF_DELAY, DEFAULT_EVENT_OFF_DELAY)),
            max_devices=int(options.get(CONF_MAX_DEVICES, DEFAULT_MAX_DEVICES)),
            pattern=device_id_pattern(options),
            # Incidents go to the DHT11 family's topics: nowhere to publish without it.
            publish_incidents=Family.DHT11 in bases
            and bool(options.get(CONF_PUBLISH_INCIDENTS, True)),
        )
