"""REST answer parsing on the §6 examples."""

import pytest

from custom_components.iot_hub.core.thermomaven.answers import (
    describe,
    parse_account,
    parse_answer,
    parse_certificate_grant,
    parse_rest_devices,
)
from custom_components.iot_hub.core.thermomaven.errors import UnexpectedAnswer
from custom_components.iot_hub.core.thermomaven.models import RestDevice, TemperatureUnit

from . import examples


def test_login_example() -> None:
    answer = parse_answer(examples.LOGIN)
    assert (answer.code, answer.msg) == ("0", "Your request has been successful.")
    account = parse_account(answer.data)
    assert account.token == "3f9c2b7e1d4a4e0f9b8c7d6e5f4a3b2c"
    assert account.user_id == "291300000000000001"
    assert account.temperature_unit is TemperatureUnit.FAHRENHEIT
    assert "3f9c2b7e" not in repr(account)


def test_user_id_as_string_and_units() -> None:
    data = {"token": "t", "userId": "291300000000000001", "setting": {"temperatureUnit": "celsius"}}
    account = parse_account(data)
    assert (account.user_id, account.temperature_unit) == (
        "291300000000000001",
        TemperatureUnit.CELSIUS,
    )
    assert (
        parse_account({"token": "t", "setting": {"temperatureUnit": "K"}}).temperature_unit is None
    )
    assert parse_account({"token": "t", "setting": "F"}).temperature_unit is None


def test_sign_error_example() -> None:
    answer = parse_answer(examples.SIGN_ERROR)
    assert (answer.code, answer.data) == ("40000", None)
    assert describe(answer) == "code 40000: Sign error"
    assert describe(parse_answer(b'{"code": 7}')) == "code 7"


def test_cert_apply_example() -> None:
    grant = parse_certificate_grant(parse_answer(examples.CERT_APPLY).data)
    assert grant.p12_url.startswith("https://file.iot.thermomaven.com/mqtt-cert/")
    assert grant.p12_md5 == "9e107d9d372bb6826bd81d3542a419d6"
    assert grant.sub_topics == ("app/user/291300000000000001/sub",)
    assert grant.extras == {}
    with pytest.raises(UnexpectedAnswer, match="p12Url"):
        parse_certificate_grant({"p12Url": "http://file.example/x.p12", "p12Password": "x"})
    http = parse_certificate_grant(
        {"p12Url": "http://file.example/x.p12", "p12Password": "x"}, allow_http=True
    )
    assert http.p12_url == "http://file.example/x.p12"


def test_shared_list_example() -> None:
    assert parse_rest_devices(parse_answer(examples.SHARED_LIST).data) == (
        RestDevice(
            device_sn="WTA0CC30A14A6B2ESA",
            name="ThermoMaven G1 - 2ESA",
            model="WT10",
            device_id=None,
            device_share_id="243700000000000001",
            from_user_name="Owner Name",
            share_status="accepted",
        ),
    )
    assert parse_rest_devices(None) == ()
    extra = parse_rest_devices([{"deviceId": 5, "batteryLevel": 80, "firmwareVersion": "1.0"}])
    assert (extra[0].device_id, extra[0].battery_level, extra[0].firmware_version) == (
        "5",
        80,
        "1.0",
    )
