"""Country code (x-region) → data centre and REST base URL, from the captured region table.

The table is the app's own server dictionary (`/app/dict/list`, key `region`): US, CA, AU
and NZ use the US data centre; the European list, which includes ZA, uses the DE one.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .errors import RegionError


class DataCentre(StrEnum):
    """The two ThermoMaven data centres (`dataCenterCode`)."""

    US = "US"
    DE = "DE"


BASE_URLS: Final[dict[DataCentre, str]] = {
    DataCentre.US: "https://api.iot.thermomaven.com",
    DataCentre.DE: "https://api.iot.thermomaven.de",
}

US_REGIONS: Final = ("US", "CA", "AU", "NZ")
# ZA (South Africa) is in the DE data centre in the captured dictionary. Other clients
# (djiesr/ThermoMaven-ha, FireAI) send ZA to the US server; we follow the captured table.
# GB is not in the table (the app says UK); FireAI maps GB to DE, we refuse it like any
# other unknown code rather than guess.
DE_REGIONS: Final = (
    "UK",
    "DE",
    "FR",
    "DK",
    "FI",
    "IS",
    "NO",
    "CH",
    "SE",
    "ZA",
    "AT",
    "BE",
    "BG",
    "CZ",
    "HU",
    "IE",
    "IT",
    "LU",
    "NL",
    "PL",
    "PT",
    "RO",
    "RS",
    "SK",
    "ES",
    "TR",
)

REGIONS: Final[dict[str, DataCentre]] = {
    **dict.fromkeys(US_REGIONS, DataCentre.US),
    **dict.fromkeys(DE_REGIONS, DataCentre.DE),
}


@dataclass(frozen=True, slots=True)
class Region:
    """A country code of the table, its data centre and REST base URL."""

    code: str
    data_centre: DataCentre
    base_url: str


def region_for(code: str) -> Region:
    """Return the region of a country code (case and surrounding space ignored).

    Raise RegionError for a code the captured table does not list.
    """
    normalised = code.strip().upper()
    centre = REGIONS.get(normalised)
    if centre is None:
        shown = normalised[:8] if normalised.isascii() and normalised.isalnum() else "?"
        raise RegionError(f"unknown ThermoMaven region {shown!r}")
    return Region(normalised, centre, BASE_URLS[centre])
