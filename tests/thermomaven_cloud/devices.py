"""Simulated thermometers (base station + probes) and the account's default devices (§6).

Temperatures are kept in tenths of °F, as every source reads them; reports convert them
to the account's unit when the cloud says so (see ``FakeThermoMavenCloud``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBE_COUNTS = {"WT02": 2, "WT06": 4, "WT07": 2, "WT09": 4, "WT10": 1, "WT11": 1}
VOLUMES = ("high", "medium", "quiet")
OWNER_NAME = "Owner Name"
OWNER_USER_ID = "291300000000000002"

# The three default devices: one per shape the doc describes.
WT11_ID = "216510650012434433"  # 1 probe, device/WT11/<id>/pub, owned
WT09_ID = "216510650099999999"  # 4 probes (2 cooking, 1 docked, 1 idle), shared
WT10_ID = "216510650055555555"  # 1 probe, the other topic shape app/WT10/<id>/sub, shared


def to_unit(tenths_f: int, unit: str) -> int:
    """Tenths of °F in ``unit`` ("F" or "C"), still in tenths."""
    if unit == "F":
        return tenths_f
    return round((tenths_f - 320) * 5 / 9)


def from_unit(tenths: int, unit: str) -> int:
    """Tenths in ``unit`` back to tenths of °F."""
    if unit == "F":
        return tenths
    return round(tenths * 9 / 5 + 320)


@dataclass
class Probe:
    """One probe slot. Attributes may be changed freely by tests, then published."""

    color: str
    docked: bool = False
    cooking_state: str = "idle"  # when out of the dock; docked probes report "charged"
    cooking_mode: str = "smart"
    set_temperatures: list[int] = field(default_factory=lambda: [2030])  # one per stage
    serial: str | None = None
    notes: str | None = None
    cook_uuid: str | None = None
    start_client: str | None = None
    temperature: int | None = 720  # curTemperature
    areas: list[int] | None = None  # defaults to five times ``temperature``
    ambient: int | None = 724
    percentile: list[int] | None = None
    battery: int | None = 100
    total_cook_sec: int | None = None
    cur_cook_sec: int | None = None
    remained_sec: int | None = None
    overheat: bool = False
    # In the meat: STOP and FINISH are then acknowledged but change nothing (§2.6).
    inserted: bool = True

    @property
    def cooking(self) -> bool:
        """Whether a cook is running on this probe."""
        return not self.docked and self.cooking_state == "cooking"

    def end_cook(self, state: str = "idle") -> None:
        """Forget the running cook (stopped or finished)."""
        self.cooking_state = state
        self.cook_uuid = self.start_client = None
        self.total_cook_sec = self.cur_cook_sec = self.remained_sec = None

    def report(self, unit: str) -> dict[str, Any]:
        """This probe's entry of ``cmdData.probes`` (docked probes shrink, §2.5)."""
        set_params = [{"setTemperature": to_unit(t, unit)} for t in self.set_temperatures]
        if self.docked:
            return {
                "probeColor": self.color,
                "cookingState": "charged",
                "cookingMode": self.cooking_mode,
                "setParams": set_params,
            }
        entry: dict[str, Any] = {"probeColor": self.color}
        if self.serial is not None:
            entry["deviceSn"] = self.serial
        if self.notes is not None:
            entry["probeNotes"] = self.notes
        entry |= {"cookingState": self.cooking_state, "cookingMode": self.cooking_mode}
        if self.cook_uuid is not None:
            entry |= {"cookUuid": self.cook_uuid, "startClient": self.start_client}
        entry["setParams"] = set_params
        if self.temperature is not None:
            areas = self.areas if self.areas is not None else [self.temperature] * 5
            entry |= {
                "curTemperature": to_unit(self.temperature, unit),
                "areaTemperature": [to_unit(t, unit) for t in areas],
            }
        if self.ambient is not None:
            entry["curAmbientTemperature"] = to_unit(self.ambient, unit)
        if self.percentile is not None:
            entry["temperaturePercentile"] = self.percentile
        if self.battery is not None:
            entry["batteryValue"] = self.battery
        if self.cook_uuid is not None:
            entry |= {
                "totalCookSec": self.total_cook_sec,
                "curCookSec": self.cur_cook_sec,
                "curRemainedSec": self.remained_sec,
            }
        entry |= {"cooking": self.cooking, "overheat": self.overheat}
        return entry


@dataclass
class Device:
    """A base station bound to (or shared with) the account."""

    device_id: str
    serial: str
    name: str
    model: str
    probes: list[Probe]
    # "device": device/<MODEL>/<id>/pub ([K]); "app": app/<MODEL>/<id>/sub ([D], WT10).
    topic_shape: str = "device"
    owner_name: str | None = None  # None: the account owns it; else shared by that user
    owner_user_id: str | None = None  # the envelope userId of a shared device's messages
    share_id: int = 243700000000000001
    online: bool = True
    battery_status: str = "normal"
    battery: int = 78
    wifi_rssi: int = -52
    has_wifi_config: bool = True
    connect_status: str = "both"
    volume: str = "high"
    firmware_version_code: int = 10
    app_version: str = "10"
    control_board_version: str = "10"
    bind_time: int = 1770000000000
    seq: int = 5522
    last_status: dict[str, Any] | None = None  # the last published status report

    @property
    def topic(self) -> str:
        """The device's topic (its only ``subTopics`` entry)."""
        if self.topic_shape == "app":
            return f"app/{self.model}/{self.device_id}/sub"
        return f"device/{self.model}/{self.device_id}/pub"

    @property
    def shared(self) -> bool:
        """Shared with the account by someone else."""
        return self.owner_name is not None

    def probe(self, color: str) -> Probe:
        """The probe in slot ``color`` ("probe1".."probe4")."""
        for probe in self.probes:
            if probe.color == color:
                return probe
        raise KeyError(f"{self.device_id} has no {color}")

    def status_data(self, unit: str) -> dict[str, Any]:
        """``cmdData`` of a status report (offline reports carry only globalStatus)."""
        if not self.online:
            return {"globalStatus": "offline"}
        return {
            "globalStatus": "online",
            "batteryStatus": self.battery_status,
            "batteryValue": self.battery,
            "wifiRssi": self.wifi_rssi,
            "hasWifiConfig": self.has_wifi_config,
            "connectStatus": self.connect_status,
            "volume": self.volume,
            "probes": [probe.report(unit) for probe in self.probes],
        }


def _wt09_probes() -> list[Probe]:
    """The 4-probe G4 of §6.5: two cooking, one docked, one idle."""
    return [
        Probe(
            "probe1",
            serial="WPGA000000000001",
            notes="Brisket",
            cooking_state="cooking",
            cook_uuid="0f8e7d6c5b4a39281706f5e4d3c2b1a0",
            start_client="android",
            temperature=1605,
            areas=[1605, 1622, 1650, 1741, 2180],
            ambient=2384,
            percentile=[3, 0, 2, 6, 1, 7, 0],
            battery=88,
            total_cook_sec=54000,
            cur_cook_sec=21480,
            remained_sec=9120,
        ),
        Probe(
            "probe2",
            serial="WPGA000000000002",
            cooking_state="cooking",
            cooking_mode="manual",
            set_temperatures=[1650],
            cook_uuid="1a2b3c4d5e6f708192a3b4c5d6e7f801",
            start_client="device",
            temperature=1420,
            areas=[1420, 1433, 1460, 1512, 1690],
            ambient=2350,
            percentile=[2, 0, 1, 5, 1, 6, 0],
            battery=71,
            total_cook_sec=7200,
            cur_cook_sec=3600,
        ),
        Probe("probe3", docked=True, set_temperatures=[2000]),
        Probe(
            "probe4",
            serial="WPGA000000000004",
            set_temperatures=[1450],
            temperature=720,
            areas=[720, 721, 722, 722, 723],
            ambient=724,
            battery=100,
            inserted=False,
        ),
    ]


def default_devices() -> list[Device]:
    """A 1-probe WT11 (owned), a 4-probe WT09 with a docked probe and a WT10 on app/ topics."""
    return [
        Device(
            WT11_ID,
            "WTB1AA0000000001",
            "Grill thermo",
            "WT11",
            [Probe("probe1", serial="WPTBAC0000000001", battery=95, inserted=False)],
        ),
        Device(
            WT09_ID,
            "WTG4BB0000000002",
            "Smoker G4",
            "WT09",
            _wt09_probes(),
            owner_name=OWNER_NAME,
            owner_user_id=OWNER_USER_ID,
            share_id=243700000000000002,
            battery=64,
            wifi_rssi=-61,
            connect_status="wifi",
            volume="medium",
            firmware_version_code=12,
            app_version="12",
        ),
        Device(
            WT10_ID,
            "WTA0CC30A14A6B2ESA",
            "ThermoMaven G1 - 2ESA",
            "WT10",
            [
                Probe(
                    "probe1",
                    serial="WPGA0000000000A1",
                    cooking_state="cooking",
                    cooking_mode="manual",
                    set_temperatures=[1450],
                    cook_uuid="2b3c4d5e6f708192a3b4c5d6e7f80912",
                    start_client="device",
                    temperature=1100,
                    areas=[1100, 1120, 1180, 1300, 1900],
                    ambient=2250,
                    battery=80,
                    total_cook_sec=3600,
                    cur_cook_sec=1200,
                )
            ],
            topic_shape="app",
            owner_name=OWNER_NAME,
            owner_user_id=OWNER_USER_ID,
            share_id=243700000000000001,
            connect_status="wifi",
        ),
    ]
