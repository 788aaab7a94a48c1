"""The messages the fake cloud sends: MQTT envelopes (§2.3, §6.4-6.6) and REST list entries."""

from __future__ import annotations

import time
from typing import Any
import uuid

from .devices import Device


def new_id() -> str:
    """32 lowercase hex (cmdId, tokens, passwords)."""
    return uuid.uuid4().hex


def now_ms() -> int:
    """Unix epoch in milliseconds."""
    return time.time_ns() // 1_000_000


def _device_envelope(device: Device, user_id: str, cmd_type: str) -> dict[str, Any]:
    """Envelope fields of a device-topic message; cmdSeqNo is a string there (§6.5)."""
    device.seq += 1
    server_ms = now_ms()
    return {
        "cmdId": new_id(),
        "cmdSeqNo": str(device.seq),
        "cmdType": cmd_type,
        "deviceId": device.device_id,
        "deviceType": "thermometer",
        "deviceModel": device.model,
        # The bound account: the owner's id on a shared device (§2.4, receipts).
        "userId": device.owner_user_id or user_id,
        "serverTime": server_ms,
        "serverTimeSecond": server_ms // 1000,
    }


def status_report(device: Device, user_id: str, unit: str) -> dict[str, Any]:
    """A ``<MODEL>:status:report`` with the device's current state."""
    message = _device_envelope(device, user_id, f"{device.model}:status:report")
    device_ms = message["serverTime"] - 1000
    message |= {
        "deviceTime": device_ms,
        "deviceTimeSecond": device_ms // 1000,
        "appVersion": device.app_version,
        "controlBoardVersion": device.control_board_version,
        "cmdData": device.status_data(unit),
    }
    return message


def receipt(
    device: Device, user_id: str, cmd_id: str, cmd_type: str, cmd_error: int
) -> dict[str, Any]:
    """A ``device:cmd:receipt`` for the command ``cmd_id`` (§6.6)."""
    message = _device_envelope(device, user_id, "device:cmd:receipt")
    message["cmdData"] = {
        "cmdId": cmd_id,
        "cmdType": cmd_type,
        "executeResult": "success" if cmd_error == 0 else "failure",
        "errorCode": 0,
        "cmdError": cmd_error,
    }
    return message


def device_list(devices: list[Device], user_id: str, unit: str) -> dict[str, Any]:
    """``user:device:list`` on the user topic: every device with its last report (§6.4)."""
    entries = []
    for device in devices:
        last = device.last_status
        if last is None:
            last = status_report(device, user_id, unit)
            device.seq -= 1  # not published: the next report keeps its number
        entries.append(
            {
                "deviceId": device.device_id,
                "deviceSn": device.serial,
                "deviceName": device.name,
                "deviceModel": device.model,
                "deviceLogo": f"https://file.iot.thermomaven.com/logo/{device.model}.png",
                "firmwareVersionCode": device.firmware_version_code,
                "bindTime": device.bind_time,
                "shareFlag": int(device.shared),
                "subTopics": [device.topic],
                "lastStatusCmd": last,
            }
        )
    server_ms = now_ms()
    return {
        "cmdId": new_id(),
        "cmdSeqNo": -1,
        "cmdType": "user:device:list",
        "serverTime": server_ms,
        "serverTimeSecond": server_ms // 1000,
        "deviceType": "user",
        "userId": user_id,
        "cmdData": {"devices": entries},
    }


def owned_entry(device: Device) -> dict[str, Any]:
    """An entry of ``/app/device/share/my/device/list`` (carries the deviceId, [D])."""
    return {
        "deviceShareId": device.share_id,
        "deviceId": device.device_id,
        "deviceSn": device.serial,
        "deviceName": device.name,
        "deviceModel": device.model,
    }


def shared_entry(device: Device) -> dict[str, Any]:
    """An entry of ``/app/device/share/shared/device/list`` (no deviceId, §6.3)."""
    return {
        "deviceShareId": device.share_id,
        "deviceSn": device.serial,
        "deviceName": device.name,
        "deviceModel": device.model,
        "fromUserName": device.owner_name,
        "shareStatus": "accepted",
    }
