"""Command bodies: start, change target, stop/finish; argument checks."""

import math

import pytest

from custom_components.iot_hub.core.thermomaven.commands import (
    CookingAction,
    change_target,
    end_cook,
    new_cmd_id,
    start_cook,
    target_tenths,
)

DEVICE = "216510650012434433"
UUID = "0f8e7d6c5b4a39281706f5e4d3c2b1a0"


def test_start_cook_matches_the_documented_body() -> None:
    command = start_cook(
        DEVICE, "WT11", "probe1", target=205, cmd_id="c0ffee00" * 4, cook_uuid=UUID
    )
    assert command.body() == {
        "deviceId": DEVICE,
        "deviceType": "thermometer",
        "cmdType": "WT11:cooking:action",
        "cmdId": "c0ffee00" * 4,
        "cmdData": {
            "probeColor": "probe1",
            "cookingAction": 1,
            "cookingMode": "smart",
            "cookUuid": UUID,
            "startClient": "android",
            "setParams": [{"setTemperature": 2050}],
            "cookingData": {
                "dataType": "manual",
                "dataId": "",
                "dataName": "Home Assistant cook",
                "dataImgUrl": "",
            },
        },
    }
    fresh = start_cook(DEVICE, "WT09", "probe3", target=62.5, cooking_mode="manual")
    assert len(fresh.cmd_id) == 32
    assert fresh.cmd_data["cookUuid"] != UUID
    assert fresh.cmd_data["setParams"] == [{"setTemperature": 625}]


def test_change_target_reuses_the_running_cook() -> None:
    app = change_target(
        DEVICE,
        "WT11",
        "probe1",
        target=99.96,
        cook_uuid=UUID,
        start_client="ios",
        cooking_mode=None,
    )
    assert app.cmd_data["cookUuid"] == UUID
    assert app.cmd_data["startClient"] == "ios"
    assert app.cmd_data["cookingMode"] == "smart"
    assert app.cmd_data["setParams"] == [{"setTemperature": 1000}]
    assert app.cmd_data["cookingData"]["dataType"] == "manual"
    device = change_target(
        DEVICE,
        "WT11",
        "probe1",
        target=100,
        cook_uuid=UUID,
        start_client="device",
        cooking_mode="manual",
    )
    assert device.cmd_data["cookingData"] is None
    assert device.cmd_data["cookingMode"] == "manual"
    unknown = change_target(
        DEVICE, "WT11", "probe1", target=100, cook_uuid=UUID, start_client=None, cooking_mode=None
    )
    assert unknown.cmd_data["startClient"] == "android"


@pytest.mark.parametrize(
    "action", [CookingAction.STOP, CookingAction.FINISH, CookingAction.CHANGE_RESTING]
)
def test_end_cook(action: CookingAction) -> None:
    command = end_cook(DEVICE, "WT11", "probe2", cook_uuid=UUID, action=action)
    assert command.cmd_data == {
        "probeColor": "probe2",
        "cookingAction": int(action),
        "cookUuid": UUID,
    }


def test_argument_checks() -> None:
    for kwargs in (
        {"device_id": "a/b"},
        {"model": "wt11"},
        {"model": "WT11:x"},
        {"probe_color": "bright"},
    ):
        arguments = {"device_id": DEVICE, "model": "WT11", "probe_color": "probe1"} | kwargs
        with pytest.raises(ValueError, match=r"invalid|probe_color"):
            start_cook(**arguments, target=100)
    with pytest.raises(ValueError, match="cook uuid"):
        change_target(
            DEVICE, "WT11", "probe1", target=100, cook_uuid="", start_client=None, cooking_mode=None
        )
    with pytest.raises(ValueError, match="cook uuid"):
        end_cook(DEVICE, "WT11", "probe1", cook_uuid="x y")
    with pytest.raises(ValueError, match="start_cook"):
        end_cook(DEVICE, "WT11", "probe1", cook_uuid=UUID, action=CookingAction.START)
    for bad in (math.nan, math.inf, 0, -5, 1000.1):
        with pytest.raises(ValueError, match="target"):
            target_tenths(bad)
    assert target_tenths(572) == 5720
    assert new_cmd_id() != new_cmd_id()
