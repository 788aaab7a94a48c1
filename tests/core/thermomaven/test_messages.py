"""MQTT decoders on every §6 example, per-model probe counts, units, and edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any

import pytest

from custom_components.iot_hub.core.thermomaven.commands import start_cook
from custom_components.iot_hub.core.thermomaven.messages import (
    battery,
    decode_message,
    temperature,
)
from custom_components.iot_hub.core.thermomaven.models import (
    MODELS,
    CommandReceipt,
    DeviceList,
    ListedDevice,
    Rejected,
    Rejection,
    StatusReport,
    TemperatureUnit,
    model_probes,
)

from . import examples

F, C = TemperatureUnit.FAHRENHEIT, TemperatureUnit.CELSIUS
WT09_TOPIC = "device/WT09/216510650099999999/pub"
WT11_TOPIC = "device/WT11/216510650012434433/pub"
USER_TOPIC = "app/user/291300000000000001/sub"


def envelope(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def status(cmd_data: Any, **fields: Any) -> bytes:
    return envelope(cmdType="WT09:status:report", cmdData=cmd_data, **fields)


def test_models_and_probe_counts() -> None:
    assert {code: (info.name, info.probes) for code, info in MODELS.items()} == {
        "WT02": ("ThermoMaven P2", 2),
        "WT06": ("ThermoMaven P4", 4),
        "WT07": ("ThermoMaven G2", 2),
        "WT09": ("ThermoMaven G4", 4),
        "WT10": ("ThermoMaven G1", 1),
        "WT11": ("ThermoMaven P1", 1),
    }
    assert model_probes("WT12") is None
    assert model_probes(None) is None


def test_status_report_example_g4() -> None:
    report = decode_message(WT09_TOPIC, examples.STATUS_REPORT)
    assert isinstance(report, StatusReport)
    assert (report.device_id, report.model, report.online, report.unit) == (
        "216510650099999999",
        "WT09",
        True,
        F,
    )
    assert (report.battery, report.battery_status, report.wifi_rssi) == (64, "normal", -61)
    assert (report.has_wifi_config, report.connect_status, report.volume) == (
        True,
        "wifi",
        "medium",
    )
    assert report.firmware == "12"
    assert report.server_time == datetime(2026, 5, 2, 5, 33, 32, tzinfo=UTC)
    assert report.device_time == datetime(2026, 5, 2, 5, 33, 31, tzinfo=UTC)
    assert report.probe_count == 4
    assert [p.slot for p in report.probes] == [1, 2, 3, 4]
    assert report.absent_slots == ()
    one = report.probe(1)
    assert one is not None
    assert (one.temperature, one.ambient, one.target) == (160.5, 238.4, 203.0)
    assert one.zones == (160.5, 162.2, 165.0, 174.1, 218.0)
    assert (one.battery, one.total_sec, one.elapsed_sec, one.remaining_sec) == (
        88,
        54000,
        21480,
        9120,
    )
    assert (one.cooking, one.overheat, one.docked) == (True, False, False)
    assert (one.cooking_state, one.cooking_mode, one.start_client) == (
        "cooking",
        "smart",
        "android",
    )
    assert (one.serial, one.notes, one.cook_uuid) == (
        "WPGA000000000001",
        "Brisket",
        "0f8e7d6c5b4a39281706f5e4d3c2b1a0",
    )
    two = report.probe(2)
    assert two is not None
    assert (two.remaining_sec, two.start_client, two.notes) == (None, "device", None)
    docked = report.probe(3)
    assert docked is not None
    assert docked.docked
    assert (docked.target, docked.temperature, docked.battery, docked.zones) == (
        200.0,
        None,
        None,
        (),
    )
    idle = report.probe(4)
    assert idle is not None
    assert (idle.cooking_state, idle.temperature, idle.ambient, idle.battery) == (
        "idle",
        72.0,
        72.4,
        100,
    )
    assert report.probe(5) is None


def test_status_report_in_celsius_account() -> None:
    report = decode_message(WT09_TOPIC, examples.STATUS_REPORT, C)
    assert isinstance(report, StatusReport)
    assert report.unit is C
    one = report.probe(1)
    assert one is not None
    assert (one.temperature, one.target) == (160.5, 203.0)


def test_device_list_example() -> None:
    decoded = decode_message(USER_TOPIC, examples.DEVICE_LIST)
    assert isinstance(decoded, DeviceList)
    assert decoded.user_id == "291300000000000001"
    assert decoded.skipped == 0
    assert decoded.server_time == datetime(2026, 5, 2, 5, 33, 20, tzinfo=UTC)
    p1, g4 = decoded.devices
    assert (p1.device_id, p1.serial, p1.name, p1.model) == (
        "216510650012434433",
        "WTB1AA0000000001",
        "Grill thermo",
        "WT11",
    )
    assert p1.sub_topics == ("device/WT11/216510650012434433/pub",)
    assert (p1.firmware_version, p1.shared, p1.probe_count) == ("10", False, 1)
    assert p1.logo_url == "https://file.iot.thermomaven.com/logo/WT11.png"
    assert p1.bind_time == datetime(2026, 2, 2, 2, 40, tzinfo=UTC)
    assert p1.last_status is not None
    assert p1.last_status.online
    assert (p1.last_status.battery, p1.last_status.wifi_rssi) == (78, -52)
    [docked] = p1.last_status.probes
    assert docked.docked
    assert docked.target == 203.0
    assert g4.shared is True
    assert g4.probe_count == 4
    assert g4.sub_topics == ("device/WT09/216510650099999999/pub",)
    assert g4.last_status is not None
    # lastStatusCmd without deviceId/deviceModel: taken from the listed device.
    assert (g4.last_status.device_id, g4.last_status.model) == ("216510650099999999", "WT09")
    assert not g4.last_status.online
    assert g4.last_status.probes == ()
    assert g4.last_status.absent_slots == (1, 2, 3, 4)


def test_receipt_example() -> None:
    receipt = decode_message(WT11_TOPIC, examples.RECEIPT)
    assert receipt == CommandReceipt(
        device_id="216510650012434433",
        cmd_id="c0ffee00c0ffee00c0ffee00c0ffee00",
        cmd_type="WT11:cooking:action",
        success=True,
        execute_result="success",
        error_code=0,
        cmd_error=0,
        model="WT11",
        user_id="291300000000000001",
        server_time=datetime(2026, 5, 2, 5, 33, 33, tzinfo=UTC),
    )
    failure = json.loads(examples.RECEIPT)
    failure["cmdData"].update(executeResult="failure", cmdError=4)
    del failure["deviceId"]
    decoded = decode_message("app/WT10/216510650000000001/sub", json.dumps(failure).encode())
    assert isinstance(decoded, CommandReceipt)
    assert (decoded.success, decoded.cmd_error, decoded.device_id) == (
        False,
        4,
        "216510650000000001",
    )


def test_command_example_matches_the_builder() -> None:
    expected = json.loads(examples.COMMAND)
    built = start_cook(
        "216510650012434433",
        "WT11",
        "probe1",
        target=205.0,
        cmd_id="c0ffee00c0ffee00c0ffee00c0ffee00",
        cook_uuid="0f8e7d6c5b4a39281706f5e4d3c2b1a0",
    )
    assert built.body() == expected
    # An outbound command echoed on a topic is no message we decode.
    rejected = decode_message(WT11_TOPIC, examples.COMMAND)
    assert rejected == Rejected(Rejection.UNKNOWN_CMD_TYPE, "WT11:cooking:action")


def test_device_id_from_root_then_cmd_data_then_topic() -> None:
    in_data = decode_message(WT09_TOPIC, status({"deviceId": 216510650000000007}))
    assert isinstance(in_data, StatusReport)
    assert in_data.device_id == "216510650000000007"
    from_topic = decode_message(
        "app/WT10/216510650000000008/sub", status({"globalStatus": "online"})
    )
    assert isinstance(from_topic, StatusReport)
    assert (from_topic.device_id, from_topic.model) == ("216510650000000008", "WT09")
    bad_root = decode_message(WT09_TOPIC, status({}, deviceId="a/b"))
    assert isinstance(bad_root, StatusReport)
    assert bad_root.device_id == "216510650099999999"
    nowhere = decode_message("a/b", status({}, deviceId=["x"]))
    assert isinstance(nowhere, Rejected)
    assert nowhere.reason is Rejection.INVALID_DEVICE_ID
    receipt = decode_message("x", envelope(cmdType="device:cmd:receipt", cmdData={}))
    assert isinstance(receipt, Rejected)
    assert receipt.reason is Rejection.INVALID_DEVICE_ID


def test_unknown_model_counts_reported_probes_and_missing_probes_are_absent() -> None:
    wt12 = decode_message(
        "device/WT12/1/pub",
        envelope(
            cmdType="WT12:status:report",
            deviceId="1",
            cmdData={"probes": [{"probeColor": "probe3", "curTemperature": 700}]},
        ),
    )
    assert isinstance(wt12, StatusReport)
    assert (wt12.model, wt12.probe_count, wt12.online) == ("WT12", 3, True)
    assert wt12.absent_slots == (1, 2)
    g4 = decode_message(
        WT09_TOPIC, status({"globalStatus": "online", "probes": [{"probeColor": "probe2"}]})
    )
    assert isinstance(g4, StatusReport)
    assert g4.absent_slots == (1, 3, 4)
    unknown = decode_message("a/b/7", envelope(cmdType="WT:*:status:report", cmdData={}))
    assert isinstance(unknown, StatusReport)
    assert (unknown.model, unknown.probe_count, unknown.online) == (None, 1, False)


def test_probe_slots_colors_positions_and_duplicates() -> None:
    probes = [
        {"probeColor": "bright", "curTemperature": 1000},
        {"curTemperature": 1100},
        "junk",
        {"probeColor": "probe2", "curTemperature": 1200},
        {"probeColor": "probe1", "curTemperature": 1300},
    ]
    report = decode_message(WT09_TOPIC, status({"globalStatus": "online", "probes": probes}))
    assert isinstance(report, StatusReport)
    assert [(p.slot, p.color, p.temperature) for p in report.probes] == [
        (1, "bright", 100.0),
        (2, None, 110.0),
    ]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1605, F, 160.5),
        (0, F, 0.0),
        (-1, F, None),
        (65535, F, None),
        (-400, F, -40.0),
        (-581, F, None),
        (10220, F, 1022.0),
        (10221, F, None),
        (5500, C, 550.0),
        (5501, C, None),
        (1605.0, F, 160.5),
        (160.5, F, None),
        ("1605", F, 160.5),
        ("16.05", F, None),
        (True, F, None),
        (None, F, None),
        (2**70, F, None),
        (float("inf"), F, None),
    ],
)
def test_temperature(value: Any, unit: TemperatureUnit, expected: float | None) -> None:
    assert temperature(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(50, 50), (0, 0), (100, 100), (101, 100), (255, 100), (-1, None), ("x", None)],
)
def test_battery(value: Any, expected: int | None) -> None:
    assert battery(value) == expected


def test_base_station_field_edge_cases() -> None:
    report = decode_message(
        WT09_TOPIC,
        status(
            {
                "globalStatus": "ONLINE",
                "wifiRssi": 0,
                "batteryValue": 140,
                "hasWifiConfig": 1,
                "volume": " Quiet ",
                "connectStatus": 7,
            },
            serverTime=12,
            appVersion=12,
        ),
    )
    assert isinstance(report, StatusReport)
    assert report.online
    assert (report.wifi_rssi, report.battery, report.has_wifi_config) == (None, 100, True)
    assert (report.volume, report.connect_status, report.firmware, report.server_time) == (
        "quiet",
        None,
        "12",
        None,
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", Rejection.INVALID_JSON),
        (b"{", Rejection.INVALID_JSON),
        (b"\xff", Rejection.INVALID_JSON),
        (b"[1]", Rejection.NOT_AN_OBJECT),
        (b'"user:device:list"', Rejection.NOT_AN_OBJECT),
        (b"{}", Rejection.UNKNOWN_CMD_TYPE),
        (b'{"cmdType": 5}', Rejection.UNKNOWN_CMD_TYPE),
        (b'{"cmdType": "WT09:alarm"}', Rejection.UNKNOWN_CMD_TYPE),
        (b'{"cmdType": "user:device:list"}', Rejection.MISSING_FIELD),
        (b'{"cmdType": "user:device:list", "cmdData": {"devices": {}}}', Rejection.MISSING_FIELD),
        (b'{"cmdType": "WT09:status:report"}', Rejection.MISSING_FIELD),
        (b'{"cmdType": "WT09:status:report", "cmdData": []}', Rejection.MISSING_FIELD),
        (b'{"cmdType": "device:cmd:receipt", "deviceId": "1"}', Rejection.MISSING_FIELD),
        (b"[" * 3000 + b"]" * 3000, Rejection.INVALID_JSON),
        (b'{"cmdType": "x", "pad": "' + b"x" * 300_000 + b'"}', Rejection.TOO_LARGE),
        (b'{"a": NaN}', Rejection.INVALID_JSON),
    ],
)
def test_rejections(payload: bytes, reason: Rejection) -> None:
    decoded = decode_message(WT09_TOPIC, payload)
    assert isinstance(decoded, Rejected)
    assert decoded.reason is reason
    assert len(decoded.detail) <= 130


def test_device_list_skips_bad_entries_and_filters_topics() -> None:
    devices = [
        {
            "deviceId": "1",
            "subTopics": ["device/WT11/1/pub", "device/+/+/pub", "#", 7, "device/WT11/1/pub"],
        },
        {"deviceId": "1", "deviceName": "duplicate"},
        {"deviceId": None},
        {"deviceId": True},
        "junk",
        {
            "deviceId": 2,
            "deviceModel": "wt10",
            "shareFlag": 5,
            "firmwareVersionCode": "1.2.3",
            "lastStatusCmd": {"cmdType": "WT10:status:report"},
            "subTopics": "app/WT10/2/sub",
        },
        {"deviceId": "3", "deviceModel": "X-1", "lastStatusCmd": {"cmdData": {"probes": [{}, {}]}}},
    ]
    decoded = decode_message(
        USER_TOPIC, envelope(cmdType="user:device:list", cmdData={"devices": devices})
    )
    assert isinstance(decoded, DeviceList)
    assert decoded.skipped == 4
    one, two, three = decoded.devices
    assert one.sub_topics == ("device/WT11/1/pub",)
    assert one.name is None
    assert (two.device_id, two.model, two.shared, two.firmware_version) == (
        "2",
        "WT10",
        None,
        "1.2.3",
    )
    assert two.sub_topics == ()
    assert two.last_status is None
    assert two.probe_count == 1
    assert three.model is None
    assert three.probe_count == 2
    bare = ListedDevice(device_id="9", serial=None, name=None, model=None)
    assert bare.probe_count == 1
