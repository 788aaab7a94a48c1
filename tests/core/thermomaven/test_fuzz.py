"""Hostile input everywhere: decoders return, answer parsers raise only UnexpectedAnswer."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.iot_hub.core.thermomaven.answers import (
    parse_account,
    parse_answer,
    parse_certificate_grant,
    parse_rest_devices,
)
from custom_components.iot_hub.core.thermomaven.errors import UnexpectedAnswer
from custom_components.iot_hub.core.thermomaven.messages import Message, decode_message
from custom_components.iot_hub.core.thermomaven.models import (
    CommandReceipt,
    DeviceList,
    Rejected,
    StatusReport,
    TemperatureUnit,
)
from custom_components.iot_hub.core.thermomaven.topics import device_id_from_topic

from . import examples

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "online",
            "offline",
            "charged",
            "probe1",
            "probe9",
            "WT09:status:report",
            "user:device:list",
            "device:cmd:receipt",
            "https://h/x.p12",
            "0",
            "40000",
            65535,
            -1,
            2**64,
        ]
    )
)
keys = st.sampled_from(
    [
        "cmdType",
        "cmdData",
        "deviceId",
        "deviceModel",
        "devices",
        "probes",
        "probeColor",
        "setParams",
        "setTemperature",
        "curTemperature",
        "areaTemperature",
        "batteryValue",
        "globalStatus",
        "lastStatusCmd",
        "subTopics",
        "serverTime",
        "token",
        "userId",
        "setting",
        "temperatureUnit",
        "p12Url",
        "p12Password",
        "p12Md5",
        "clientId",
        "endpoint",
        "port",
        "code",
        "data",
    ]
) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40,
)
cmd_types = st.sampled_from(
    ["user:device:list", "device:cmd:receipt", "WT09:status:report", "WT11:status:report", "x"]
)
RESULTS = (DeviceList, StatusReport, CommandReceipt, Rejected)


def _check(result: Message | Rejected) -> None:
    assert isinstance(result, RESULTS)


@FUZZ
@given(st.binary(max_size=300), st.text(max_size=40))
def test_decode_arbitrary_bytes(payload: bytes, topic: str) -> None:
    _check(decode_message(topic, payload))
    device_id = device_id_from_topic(topic)
    assert device_id is None or device_id == topic.split("/")[2]


@FUZZ
@given(
    cmd_types,
    json_values,
    st.dictionaries(keys, json_values, max_size=6),
    st.sampled_from(TemperatureUnit),
)
def test_decode_arbitrary_envelopes(
    cmd_type: str, cmd_data: Any, extra: dict[str, Any], unit: TemperatureUnit
) -> None:
    envelope = {**extra, "cmdType": cmd_type, "cmdData": cmd_data}
    payload = json.dumps(envelope).encode()
    _check(decode_message("device/WT09/216510650099999999/pub", payload, unit))


def _mutations(base: Any) -> st.SearchStrategy[Any]:
    """The example with one field replaced by anything, at any depth."""

    def mutate(value: Any, path: list[int], replacement: Any) -> Any:
        if not path:
            return replacement
        if isinstance(value, dict) and value:
            key = list(value)[path[0] % len(value)]
            return {**value, key: mutate(value[key], path[1:], replacement)}
        if isinstance(value, list) and value:
            index = path[0] % len(value)
            return [
                *value[:index],
                mutate(value[index], path[1:], replacement),
                *value[index + 1 :],
            ]
        return replacement

    return st.builds(mutate, st.just(base), st.lists(st.integers(0, 20), max_size=6), json_values)


@FUZZ
@given(
    _mutations(json.loads(examples.STATUS_REPORT))
    | _mutations(json.loads(examples.DEVICE_LIST))
    | _mutations(json.loads(examples.RECEIPT))
)
def test_decode_mutated_examples(mutated: Any) -> None:
    _check(decode_message("device/WT09/216510650099999999/pub", json.dumps(mutated).encode()))


def _only_unexpected(function: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(UnexpectedAnswer):
        function(*args, **kwargs)


@FUZZ
@given(st.binary(max_size=200) | json_values.map(lambda value: json.dumps(value).encode()))
def test_parse_answer_raises_only_unexpected(payload: bytes) -> None:
    _only_unexpected(parse_answer, payload)


@FUZZ
@given(
    json_values
    | _mutations(json.loads(examples.LOGIN)["data"])
    | _mutations(json.loads(examples.CERT_APPLY)["data"])
    | _mutations(json.loads(examples.SHARED_LIST)["data"]),
    st.booleans(),
)
def test_data_parsers_raise_only_unexpected(data: Any, allow_http: bool) -> None:
    _only_unexpected(parse_account, data)
    _only_unexpected(parse_rest_devices, data)
    _only_unexpected(parse_certificate_grant, data, allow_http=allow_http)
