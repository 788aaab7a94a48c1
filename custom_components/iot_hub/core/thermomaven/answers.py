"""Validate REST answers: envelope, login, device lists, certificate apply.

Every function takes hostile input and returns a typed result or raises UnexpectedAnswer,
nothing else.
"""

from dataclasses import dataclass
import re
from typing import Any, Final

from yarl import URL

from .errors import UnexpectedAnswer
from .fields import BadJson, as_id, as_int, as_object, as_text, parse_json, quote
from .models import Account, CertificateGrant, RestDevice, TemperatureUnit
from .signing import valid_header_value
from .topics import valid_subscription

# A device list of a few hundred devices with their last reports stays far below this.
MAX_ANSWER_BYTES: Final = 1024 * 1024
MAX_REST_DEVICES: Final = 500
MAX_EXTRAS: Final = 32
SUCCESS: Final = "0"
SIGN_ERROR: Final = "40000"
_HEX32 = re.compile(r"[0-9a-fA-F]{32}", re.ASCII)
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", re.ASCII)
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}", re.ASCII)
_GRANT_KEYS: Final = frozenset(
    {"p12Url", "p12Md5", "p12Password", "clientId", "subTopics", "endpoint", "port"}
)


@dataclass(frozen=True, slots=True)
class Answer:
    """The envelope `{code, msg, data}` of every REST answer; code always as text."""

    code: str
    msg: str | None
    data: Any


def parse_answer(payload: bytes) -> Answer:
    """Parse the envelope of an answer body (size-capped, depth-capped JSON object)."""
    parsed = parse_json(payload, MAX_ANSWER_BYTES)
    if isinstance(parsed, BadJson):
        raise UnexpectedAnswer(parsed.detail)
    if not isinstance(parsed, dict):
        raise UnexpectedAnswer(f"answer is a {type(parsed).__name__}, not an object")
    code = parsed.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if not isinstance(code, str) or not 0 < len(code) <= 16 or not code.isascii():
        raise UnexpectedAnswer(f"answer code is {quote(code)}")
    return Answer(code.strip(), as_text(parsed.get("msg"), 120), parsed.get("data"))


def describe(answer: Answer) -> str:
    """Return `code …: msg` of an error answer, printable and short."""
    return f"code {quote(answer.code)}" + (f": {quote(answer.msg)}" if answer.msg else "")


def parse_account(data: object) -> Account:
    """Return the Account of a login answer's data; a usable token is required."""
    obj = as_object(data)
    if obj is None:
        raise UnexpectedAnswer(f"login data is {quote(data)}")
    token = obj.get("token")
    if not isinstance(token, str) or not valid_header_value(token):
        raise UnexpectedAnswer("login answer has no usable token")
    user = as_object(obj.get("user")) or {}
    setting = as_object(obj.get("setting")) or {}
    unit_text = as_text(setting.get("temperatureUnit"), 16)
    unit = None
    if unit_text is not None and unit_text[0].upper() in ("C", "F"):
        unit = TemperatureUnit(unit_text[0].upper())
    return Account(
        token=token,
        user_id=as_id(obj.get("userId")),
        user_name=as_text(user.get("userName")),
        email=as_text(user.get("userEmail"), 254),
        temperature_unit=unit,
    )


def parse_rest_devices(data: object) -> tuple[RestDevice, ...]:
    """Return the devices of a my/shared device-list answer (null data = none).

    Entries that are not objects, or have neither a deviceSn nor a deviceId, are skipped.
    """
    if data is None:
        return ()
    if not isinstance(data, list):
        raise UnexpectedAnswer(f"device list data is {quote(data)}")
    devices: list[RestDevice] = []
    for raw in data[:MAX_REST_DEVICES]:
        obj = as_object(raw)
        if obj is None:
            continue
        device = RestDevice(
            device_sn=as_id(obj.get("deviceSn")),
            name=as_text(obj.get("deviceName")),
            model=as_text(obj.get("deviceModel"), 16),
            device_id=as_id(obj.get("deviceId")),
            device_share_id=as_id(obj.get("deviceShareId")),
            from_user_name=as_text(obj.get("fromUserName")),
            share_status=as_text(obj.get("shareStatus"), 32),
            battery_level=as_int(obj.get("batteryLevel"), 0, 100),
            firmware_version=as_text(obj.get("firmwareVersion"), 32),
        )
        if device.device_sn is not None or device.device_id is not None:
            devices.append(device)
    return tuple(devices)


def _p12_url(value: object, allow_http: bool) -> str:
    """Return the P12 URL if it is an absolute https (or, for a test cloud, http) URL."""
    if not isinstance(value, str) or not 0 < len(value) <= 2048 or not value.isascii():
        raise UnexpectedAnswer(f"p12Url is {quote(value)}")
    try:
        url = URL(value)
    except (ValueError, TypeError) as err:
        raise UnexpectedAnswer(f"p12Url is {quote(value)}") from err
    schemes = ("https", "http") if allow_http else ("https",)
    if url.scheme not in schemes or not url.host or not url.is_absolute():
        raise UnexpectedAnswer(f"p12Url is {quote(value)}")
    return value


def parse_certificate_grant(data: object, *, allow_http: bool = False) -> CertificateGrant:
    """Return what a cert-apply answer grants; URL and password are required."""
    obj = as_object(data)
    if obj is None:
        raise UnexpectedAnswer(f"cert apply data is {quote(data)}")
    url = _p12_url(obj.get("p12Url"), allow_http)
    password = obj.get("p12Password")
    if not isinstance(password, str) or not 0 < len(password) <= 256:
        raise UnexpectedAnswer("cert apply answer has no usable p12Password")
    md5 = obj.get("p12Md5")
    if md5 is not None and (not isinstance(md5, str) or not _HEX32.fullmatch(md5)):
        raise UnexpectedAnswer(f"p12Md5 is {quote(md5)}")
    client_id = obj.get("clientId")
    if client_id is not None and (
        not isinstance(client_id, str) or len(client_id) > 128 or not valid_header_value(client_id)
    ):
        raise UnexpectedAnswer(f"clientId is {quote(client_id)}")
    topics = obj.get("subTopics")
    topic_list = topics[:16] if isinstance(topics, list) else []
    endpoint = obj.get("endpoint")
    extras: dict[str, str] = {}
    for key, value in obj.items():
        if len(extras) >= MAX_EXTRAS or key in _GRANT_KEYS or not _KEY.fullmatch(key):
            continue
        if "password" in key.lower():
            continue
        text = as_text(value) if isinstance(value, str) else as_id(value)
        if text is not None:
            extras[key] = text
    return CertificateGrant(
        p12_url=url,
        p12_password=password,
        p12_md5=md5.lower() if md5 is not None else None,
        client_id=client_id,
        sub_topics=tuple(dict.fromkeys(t for t in topic_list if valid_subscription(t))),
        endpoint=endpoint if isinstance(endpoint, str) and _HOST.fullmatch(endpoint) else None,
        port=as_int(obj.get("port"), 1, 65535),
        extras=extras,
    )
