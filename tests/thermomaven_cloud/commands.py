"""What a simulated device does with a command from ``/app/command/send`` (§1.9, §2.6).

``apply`` changes the device and returns the receipt's ``cmdError`` (0 = success):
1 invalid structure/state, 4 action not applicable (resting without a rest target),
128 nothing to stop/modify, 512 startClient mismatch ([K] and [T] codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .devices import VOLUMES, Device, Probe, from_unit

START, STOP, RESTING, FINISH = 1, 2, 4, 5
OK, INVALID, NOT_APPLICABLE, NOTHING_TO_STOP, CLIENT_MISMATCH = 0, 1, 4, 128, 512
STATUS_REQUEST = "device:status:request"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The receipt's cmdError, and whether the device then reports its status at once."""

    cmd_error: int
    report_now: bool = False


def apply(device: Device, cmd_type: str, data: dict[str, Any], unit: str) -> Outcome:
    """Execute ``cmd_type`` with ``data`` (temperatures in ``unit`` tenths) on ``device``."""
    if cmd_type == STATUS_REQUEST:
        return Outcome(OK, report_now=True)
    model, _, verb = cmd_type.partition(":")
    if model != device.model:
        return Outcome(INVALID)
    if verb == "cooking:action":
        return Outcome(_cooking_action(device, data, unit))
    if verb == "setting:modify":
        return Outcome(_setting(device, data))
    return Outcome(INVALID)


def _setting(device: Device, data: dict[str, Any]) -> int:
    if "volume" in data:
        if data["volume"] not in VOLUMES:
            return INVALID
        device.volume = data["volume"]
        return OK
    # readyNotification / screenBrightness exist but are not characterised: accepted.
    return OK if data.keys() & {"readyNotification", "screenBrightness"} else INVALID


def _targets(data: dict[str, Any], unit: str) -> list[int] | None:
    stages = data.get("setParams")
    if not isinstance(stages, list) or not stages:
        return None
    targets = []
    for stage in stages:
        value = stage.get("setTemperature") if isinstance(stage, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        targets.append(from_unit(value, unit))
    return targets


def _cooking_action(device: Device, data: dict[str, Any], unit: str) -> int:
    try:
        probe = device.probe(str(data.get("probeColor")))
    except KeyError:
        return INVALID
    action = data.get("cookingAction")
    if action == START:
        return _start(probe, data, unit)
    if action in (STOP, FINISH, RESTING):
        if not probe.cooking or data.get("cookUuid") != probe.cook_uuid:
            return NOTHING_TO_STOP
        if action == RESTING:
            if len(probe.set_temperatures) < 2:
                return NOT_APPLICABLE
            probe.cooking_state = "resting"
        elif not probe.inserted:
            # STOP/FINISH "succeed" without effect while the probe is in the meat.
            probe.end_cook()
        return OK
    return INVALID


def _start(probe: Probe, data: dict[str, Any], unit: str) -> int:
    targets = _targets(data, unit)
    uuid = data.get("cookUuid")
    if probe.docked or targets is None or not isinstance(uuid, str) or not uuid:
        return INVALID
    mode = data.get("cookingMode") or probe.cooking_mode
    if probe.cooking and uuid == probe.cook_uuid:
        # Hot edit of the running cook: same startClient required.
        if data.get("startClient", probe.start_client) != probe.start_client:
            return CLIENT_MISMATCH
        probe.set_temperatures = targets
        probe.cooking_mode = mode
        return OK
    probe.cooking_state = "cooking"
    probe.cooking_mode = mode
    probe.cook_uuid = uuid
    probe.start_client = data.get("startClient") or "android"
    probe.set_temperatures = targets
    probe.total_cook_sec = probe.cur_cook_sec = 0
    probe.remained_sec = None
    return OK
