"""The captured region table: data centre and base URL per country, ZA in DE."""

import pytest

from custom_components.iot_hub.core.thermomaven.errors import RegionError, ThermoMavenError
from custom_components.iot_hub.core.thermomaven.regions import (
    DE_REGIONS,
    REGIONS,
    US_REGIONS,
    DataCentre,
    region_for,
)

US = "https://api.iot.thermomaven.com"
DE = "https://api.iot.thermomaven.de"


@pytest.mark.parametrize("code", ["US", "CA", "AU", "NZ"])
def test_us_data_centre(code: str) -> None:
    region = region_for(code)
    assert (region.code, region.data_centre, region.base_url) == (code, DataCentre.US, US)


def test_za_follows_the_captured_table_not_the_other_clients() -> None:
    region = region_for("ZA")
    assert region.data_centre is DataCentre.DE
    assert region.base_url == DE


@pytest.mark.parametrize("code", DE_REGIONS)
def test_european_list_is_de(code: str) -> None:
    assert region_for(code).base_url == DE


def test_table_is_complete_and_disjoint() -> None:
    assert len(US_REGIONS) == 4
    assert len(DE_REGIONS) == 26
    assert len(REGIONS) == 30
    assert set(US_REGIONS).isdisjoint(DE_REGIONS)


def test_case_and_space_are_normalised() -> None:
    assert region_for(" fr ").code == "FR"


@pytest.mark.parametrize("code", ["GB", "JP", "", "EU", "U\nS", "x" * 200])
def test_unknown_country_is_a_region_error(code: str) -> None:
    with pytest.raises(RegionError, match="unknown ThermoMaven region") as info:
        region_for(code)
    assert isinstance(info.value, ThermoMavenError)
    assert len(str(info.value)) < 60
