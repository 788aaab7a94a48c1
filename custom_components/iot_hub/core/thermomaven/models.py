"""Typed results: REST answers, decoded MQTT messages, rejections and the model table."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final


class TemperatureUnit(StrEnum):
    """The account's temperature unit (login `setting.temperatureUnit`)."""

    CELSIUS = "C"
    FAHRENHEIT = "F"


class Rejection(StrEnum):
    """Why an MQTT payload was not accepted; values are diagnostics keys."""

    TOO_LARGE = "too_large"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    UNKNOWN_CMD_TYPE = "unknown_cmd_type"
    INVALID_DEVICE_ID = "invalid_device_id"
    DEVICE_ID_MISMATCH = "device_id_mismatch"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload that was refused, and why."""

    reason: Rejection
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A ThermoMaven base-station model: its code, marketing name and probe slots."""

    code: str
    name: str
    probes: int


MODELS: Final[dict[str, ModelInfo]] = {
    info.code: info
    for info in (
        ModelInfo("WT02", "ThermoMaven P2", 2),
        ModelInfo("WT06", "ThermoMaven P4", 4),
        ModelInfo("WT07", "ThermoMaven G2", 2),
        ModelInfo("WT09", "ThermoMaven G4", 4),
        ModelInfo("WT10", "ThermoMaven G1", 1),
        ModelInfo("WT11", "ThermoMaven P1", 1),
    )
}
# cookingState of a probe sitting in its dock ("charge" in djiesr's translations).
DOCKED_STATES: Final = frozenset({"charged", "charge"})


def model_probes(model: str | None) -> int | None:
    """Return the probe slots of a known model, None for an unknown one."""
    info = MODELS.get(model or "")
    return None if info is None else info.probes


# ------------------------------------------------------------------------ REST


@dataclass(frozen=True, slots=True)
class Account:
    """A successful login: the token and what the cloud says about the user."""

    token: str = field(repr=False)
    user_id: str | None
    user_name: str | None = None
    email: str | None = None
    # None when the login answer has no (known) unit; temperatures then stay in F.
    temperature_unit: TemperatureUnit | None = None


@dataclass(frozen=True, slots=True)
class RestDevice:
    """An owned or shared device of the REST lists (shared devices may lack deviceId)."""

    device_sn: str | None
    name: str | None
    model: str | None
    device_id: str | None = None
    device_share_id: str | None = None
    from_user_name: str | None = None
    share_status: str | None = None
    battery_level: int | None = None
    firmware_version: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateGrant:
    """What `/app/mqtt/cert/apply` gave, as the cloud gave it (topics never rebuilt)."""

    p12_url: str
    p12_password: str = field(repr=False)
    p12_md5: str | None
    client_id: str | None
    sub_topics: tuple[str, ...]
    endpoint: str | None = None
    port: int | None = None
    # Other short scalar fields of the answer (e.g. region, expiry), as text.
    extras: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------ MQTT


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe slot of a status report; a docked probe carries only its state and target.

    Temperatures are degrees of the report's unit (the cloud sends tenths).
    """

    slot: int
    color: str | None = None
    docked: bool = False
    cooking_state: str | None = None
    cooking_mode: str | None = None
    cook_uuid: str | None = None
    start_client: str | None = None
    serial: str | None = None
    notes: str | None = None
    target: float | None = None
    temperature: float | None = None
    ambient: float | None = None
    # areaTemperature: T1 (tip) … T5 (handle); None where a zone had no valid reading.
    zones: tuple[float | None, ...] = ()
    battery: int | None = None
    total_sec: int | None = None
    elapsed_sec: int | None = None
    remaining_sec: int | None = None
    cooking: bool | None = None
    overheat: bool | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A `<MODEL>:status:report` (live, or a device's `lastStatusCmd`)."""

    device_id: str
    model: str | None
    online: bool
    unit: TemperatureUnit
    # Slots the model has (table), or for an unknown model the highest slot reported (≥ 1).
    probe_count: int
    probes: tuple[Probe, ...] = ()
    battery: int | None = None
    battery_status: str | None = None
    wifi_rssi: int | None = None
    has_wifi_config: bool | None = None
    connect_status: str | None = None
    volume: str | None = None
    firmware: str | None = None
    server_time: datetime | None = None
    device_time: datetime | None = None

    def probe(self, slot: int) -> Probe | None:
        """Return the probe of a slot (1-based), None when the report does not carry it."""
        return next((probe for probe in self.probes if probe.slot == slot), None)

    @property
    def absent_slots(self) -> tuple[int, ...]:
        """Return the slots the model has but this report does not carry."""
        present = {probe.slot for probe in self.probes}
        return tuple(slot for slot in range(1, self.probe_count + 1) if slot not in present)


@dataclass(frozen=True, slots=True)
class ListedDevice:
    """A device of `user:device:list`, with its topics exactly as the cloud gives them."""

    device_id: str
    serial: str | None
    name: str | None
    model: str | None
    sub_topics: tuple[str, ...] = ()
    firmware_version: str | None = None
    shared: bool | None = None
    logo_url: str | None = None
    bind_time: datetime | None = None
    last_status: StatusReport | None = None

    @property
    def probe_count(self) -> int:
        """Return the probe slots of the model (else of the last report, else 1)."""
        known = model_probes(self.model)
        if known is not None:
            return known
        return self.last_status.probe_count if self.last_status is not None else 1


@dataclass(frozen=True, slots=True)
class DeviceList:
    """A `user:device:list`: the whole account's devices (entries without an id skipped)."""

    user_id: str | None
    devices: tuple[ListedDevice, ...]
    skipped: int = 0
    server_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommandReceipt:
    """A `device:cmd:receipt`: the device's verdict on a command sent by cmdId."""

    device_id: str
    cmd_id: str | None
    cmd_type: str | None
    success: bool
    execute_result: str | None = None
    error_code: int | None = None
    cmd_error: int | None = None
    model: str | None = None
    user_id: str | None = None
    server_time: datetime | None = None
