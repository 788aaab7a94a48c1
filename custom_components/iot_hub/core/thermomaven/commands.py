"""Build `/app/command/send` bodies: start a cook, change its target, stop or finish it.

Scheme of kingchddg901/ha-thermomaven (from the APK, live-verified on WT11): cmdType
`<MODEL>:cooking:action`, cookingAction 1 = start (a new cookUuid replaces the running cook,
the running one edits it in place), 2 = stop, 4 = change resting, 5 = finish. The cloud's
`code "0"` only means queued: the verdict is the `device:cmd:receipt` with the same cmdId.
"""

from dataclasses import dataclass
from enum import IntEnum
import math
import re
from typing import Any, Final
import uuid

DEVICE_TYPE: Final = "thermometer"
DEFAULT_COOK_NAME: Final = "Home Assistant cook"
DEFAULT_START_CLIENT: Final = "android"
# The largest target the apps offer is 572 °F; refuse anything outside a wide margin.
MAX_TARGET_TENTHS: Final = 10000
_MODEL = re.compile(r"[A-Z0-9]{1,16}", re.ASCII)
_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.:-]{0,63}", re.ASCII)
_COLOR = re.compile(r"probe[1-8]", re.ASCII)


class CookingAction(IntEnum):
    """The `cookingAction` values of the APK (3 is absent)."""

    START = 1
    STOP = 2
    CHANGE_RESTING = 4
    FINISH = 5


@dataclass(frozen=True, slots=True)
class Command:
    """A command for `/app/command/send`."""

    device_id: str
    cmd_type: str
    cmd_data: dict[str, Any]
    cmd_id: str

    def body(self) -> dict[str, Any]:
        """Return the request body, keys in the order the app sends them."""
        return {
            "deviceId": self.device_id,
            "deviceType": DEVICE_TYPE,
            "cmdType": self.cmd_type,
            "cmdId": self.cmd_id,
            "cmdData": self.cmd_data,
        }


def new_cmd_id() -> str:
    """Return a fresh command or cook id: a UUID4 as 32 hex characters."""
    return uuid.uuid4().hex


def target_tenths(degrees: float) -> int:
    """Return a target in degrees of the account's unit as the tenths the cloud wants."""
    if not math.isfinite(degrees):
        raise ValueError("target temperature must be finite")
    tenths = round(degrees * 10)
    if not 0 < tenths <= MAX_TARGET_TENTHS:
        raise ValueError(f"target temperature {degrees} is out of range")
    return tenths


def _check(device_id: str, model: str, probe_color: str) -> str:
    """Validate the addressing of a command; return its cmdType."""
    if not _ID.fullmatch(device_id):
        raise ValueError("invalid device id")
    if not _MODEL.fullmatch(model):
        raise ValueError("invalid model")
    if not _COLOR.fullmatch(probe_color):
        raise ValueError("probe_color must be probe1 … probe8")
    return f"{model}:cooking:action"


def start_cook(
    device_id: str,
    model: str,
    probe_color: str,
    *,
    target: float,
    cooking_mode: str = "smart",
    cook_name: str = DEFAULT_COOK_NAME,
    cmd_id: str | None = None,
    cook_uuid: str | None = None,
) -> Command:
    """Start a new cook on a probe (a fresh cookUuid replaces any running cook)."""
    cmd_type = _check(device_id, model, probe_color)
    data: dict[str, Any] = {
        "probeColor": probe_color,
        "cookingAction": int(CookingAction.START),
        "cookingMode": cooking_mode,
        "cookUuid": cook_uuid or new_cmd_id(),
        "startClient": DEFAULT_START_CLIENT,
        "setParams": [{"setTemperature": target_tenths(target)}],
        "cookingData": {
            "dataType": "manual",
            "dataId": "",
            "dataName": cook_name,
            "dataImgUrl": "",
        },
    }
    return Command(device_id, cmd_type, data, cmd_id or new_cmd_id())


def change_target(
    device_id: str,
    model: str,
    probe_color: str,
    *,
    target: float,
    cook_uuid: str,
    start_client: str | None,
    cooking_mode: str | None,
    cmd_id: str | None = None,
) -> Command:
    """Change the target of the running cook `cook_uuid` in place (START with its uuid).

    startClient and cookingMode must be the running cook's; cookingData is null when the
    device itself started the cook.
    """
    cmd_type = _check(device_id, model, probe_color)
    if not _ID.fullmatch(cook_uuid):
        raise ValueError("invalid cook uuid")
    client = start_client or DEFAULT_START_CLIENT
    data: dict[str, Any] = {
        "probeColor": probe_color,
        "cookingAction": int(CookingAction.START),
        "cookingMode": cooking_mode or "smart",
        "cookUuid": cook_uuid,
        "startClient": client,
        "setParams": [{"setTemperature": target_tenths(target)}],
        "cookingData": None
        if client == "device"
        else {"dataType": "manual", "dataId": "", "dataName": DEFAULT_COOK_NAME, "dataImgUrl": ""},
    }
    return Command(device_id, cmd_type, data, cmd_id or new_cmd_id())


def end_cook(
    device_id: str,
    model: str,
    probe_color: str,
    *,
    cook_uuid: str,
    action: CookingAction = CookingAction.STOP,
    cmd_id: str | None = None,
) -> Command:
    """Stop (or finish, or change resting of) the running cook `cook_uuid`.

    The device acknowledges STOP and FINISH with success but ignores them while the probe
    is inserted or docked: watch the next reports.
    """
    cmd_type = _check(device_id, model, probe_color)
    if action is CookingAction.START:
        raise ValueError("use start_cook or change_target to start")
    if not _ID.fullmatch(cook_uuid):
        raise ValueError("invalid cook uuid")
    data: dict[str, Any] = {
        "probeColor": probe_color,
        "cookingAction": int(action),
        "cookUuid": cook_uuid,
    }
    return Command(device_id, cmd_type, data, cmd_id or new_cmd_id())
