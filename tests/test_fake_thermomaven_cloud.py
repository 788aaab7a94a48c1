"""The fake ThermoMaven cloud behaves as the public ThermoMaven protocol notes describe.

Only plain aiohttp and paho clients written here talk to it (not the integration's client).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import datetime as dt
import hashlib
import json
from pathlib import Path
import ssl
import time
from typing import Any
import uuid

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
import paho.mqtt.client as mqtt
import pytest

from .thermomaven_cloud import fixtures, server as rest
from .thermomaven_cloud.cloud import FakeThermoMavenCloud
from .thermomaven_cloud.devices import WT09_ID, WT10_ID, WT11_ID, Device, Probe
from .thermomaven_cloud.pki import CloudCA
from .thermomaven_cloud.signing import sign

# The fixture, as another test module would use it.
thermomaven_cloud = fixtures.thermomaven_cloud

TIMEOUT = 15.0
APP_ID = "ap4060eff28137181bd"
APP_KEY = "bcd4596f1bb8419a92669c8017bf25e8"
INSTALL_ID = "0123456789abcdef0123456789abcdef"
VECTOR_HEADERS = {
    "x-appId": APP_ID,
    "x-appVersion": "1906",
    "x-deviceSn": INSTALL_ID,
    "x-lang": "en_US",
    "x-nonce": "00000000000000000000000000000001",
    "x-region": "US",
    "x-timestamp": "1760000000000",
    "x-token": "none",
}
VECTOR_LOGIN = (
    '{"accountName":"user@example.com","accountPassword":"2ab96390c7dbe3439de74d0c9b0b1767",'
    '"deviceInfo":"homeassistant thermomaven"}'
)
# §6.6, aimed at the fake's WT11.
START_COMMAND = {
    "deviceId": WT11_ID,
    "deviceType": "thermometer",
    "cmdType": "WT11:cooking:action",
    "cmdId": "c0ffee00c0ffee00c0ffee00c0ffee00",
    "cmdData": {
        "probeColor": "probe1",
        "cookingAction": 1,
        "cookingMode": "smart",
        "cookUuid": "0f8e7d6c5b4a39281706f5e4d3c2b1a0",
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

# ---------------------------------------------------------------- a REST client, per §1


def client_sign(headers: dict[str, str], body: str) -> str:
    """x-sign as §1.4 spells it, written independently of the fake."""
    joined = ";".join(f"{key}={headers[key]}" for key in sorted(VECTOR_HEADERS))
    text = f"{APP_KEY}|{joined}" + (f"|{body}" if body.strip() else "")
    return hashlib.md5(text.replace("\n", "").encode(), usedforsecurity=False).hexdigest()


class Rest:
    """Signed calls to the fake, remembering the token of the last login."""

    def __init__(self, session: aiohttp.ClientSession, cloud: FakeThermoMavenCloud) -> None:
        self.session = session
        self.cloud = cloud
        self.token = "none"
        self.ssl = ssl.create_default_context(cadata=cloud.ca_pem)

    def headers(self, body: str, *, token: str | None = None, region: str = "US") -> dict[str, str]:
        headers = {
            "x-appId": APP_ID,
            "x-appVersion": "1906",
            "x-deviceSn": INSTALL_ID,
            "x-lang": "en_US",
            "x-nonce": uuid.uuid4().hex,
            "x-region": region,
            "x-timestamp": str(time.time_ns() // 1_000_000),
            "x-token": self.token if token is None else token,
        }
        headers["x-sign"] = client_sign(headers, body)
        return headers | {"Content-Type": "application/json; charset=UTF-8"}

    async def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        tamper: Callable[[dict[str, str]], None] | None = None,
        **header_options: Any,
    ) -> dict[str, Any]:
        raw = "" if body is None else json.dumps(body, separators=(",", ":"))
        headers = self.headers(raw, **header_options)
        if tamper is not None:
            tamper(headers)
        async with self.session.post(
            self.cloud.base_url + path, data=raw.encode(), headers=headers, ssl=self.ssl
        ) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def login(self, email: str | None = None, password: str | None = None) -> dict[str, Any]:
        answer = await self.post(
            rest.LOGIN,
            {
                "accountName": email or self.cloud.email,
                "accountPassword": hashlib.md5(
                    (password or self.cloud.password).encode(), usedforsecurity=False
                ).hexdigest(),
                "deviceInfo": "homeassistant thermomaven",
            },
            token="none",
        )
        if answer["code"] == "0":
            self.token = answer["data"]["token"]
        return answer


@pytest.fixture
async def api(thermomaven_cloud: FakeThermoMavenCloud) -> AsyncIterator[Rest]:
    async with aiohttp.ClientSession() as session:
        yield Rest(session, thermomaven_cloud)


# ---------------------------------------------------------------- an MQTT client, per §2.1


class Paho:
    """A paho client (own thread) whose callbacks resolve futures on the event loop."""

    def __init__(self, cloud: FakeThermoMavenCloud, client_id: str, **tls: Any) -> None:
        self.cloud = cloud
        self.loop = asyncio.get_running_loop()
        self.outcome: asyncio.Future[Any] = self.loop.create_future()
        # Every connect/disconnect outcome, in order (paho reconnects on its own).
        self.events: asyncio.Queue[str] = asyncio.Queue()
        self.messages: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.subacks: dict[int, asyncio.Future[list[int]]] = {}
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        self.client.tls_set(ca_certs=str(cloud.ca_path), **tls)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _call(self, function: Callable[..., None], *args: Any) -> None:
        self.loop.call_soon_threadsafe(function, *args)

    def _settle(self, outcome: str) -> None:
        if not self.outcome.done():
            self.outcome.set_result(outcome)
        self.events.put_nowait(outcome)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._call(self._settle, "connected" if reason == 0 else f"refused {reason}")

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self._call(self._settle, "connect failed")

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._call(self._settle, f"disconnected {reason}")

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self._call(lambda: self.subacks[mid].set_result([int(code.value) for code in codes]))

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._call(self.messages.put_nowait, (message.topic, json.loads(message.payload)))

    async def connect(self) -> str:
        """Connect; return "connected" or how it failed."""
        self.client.connect_async(self.cloud.mqtt_host, self.cloud.mqtt_port, keepalive=30)
        self.client.loop_start()
        async with asyncio.timeout(TIMEOUT):
            return await self.outcome

    async def next_event(self) -> str:
        """The next connect/disconnect outcome (the first is also ``connect``'s answer)."""
        async with asyncio.timeout(TIMEOUT):
            return await self.events.get()

    async def subscribe(self, *topics: str) -> list[int]:
        """Subscribe (QoS 1); return the SUBACK codes (1 granted, 0x80 refused)."""
        _, mid = self.client.subscribe([(topic, 1) for topic in topics])
        self.subacks[mid] = self.loop.create_future()
        async with asyncio.timeout(TIMEOUT):
            return await self.subacks[mid]

    async def next(
        self, predicate: Callable[[str, dict[str, Any]], bool]
    ) -> tuple[str, dict[str, Any]]:
        """The next message (topic, JSON) matching ``predicate``; others are skipped."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                topic, message = await self.messages.get()
                if predicate(topic, message):
                    return topic, message

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
async def paho_clients() -> AsyncIterator[list[Paho]]:
    """Paho clients made by a test; all stopped (threads joined) afterwards."""
    clients: list[Paho] = []
    yield clients
    for client in clients:
        client.close()


async def apply_certificate(api: Rest, tmp_path: Path) -> tuple[dict[str, Any], Path, Path]:
    """Cert apply → P12 download → MD5 → PEM files; return (apply data, cert, key)."""
    answer = await api.post(rest.CERT_APPLY)
    assert answer["code"] == "0", answer
    data = answer["data"]
    async with api.session.get(data["p12Url"], ssl=api.ssl) as response:
        assert response.status == 200
        p12 = await response.read()
    assert hashlib.md5(p12, usedforsecurity=False).hexdigest() == data["p12Md5"]
    key, cert, extra = pkcs12.load_key_and_certificates(p12, data["p12Password"].encode())
    assert key is not None
    assert cert is not None
    assert [c.subject for c in extra] == [
        x509.load_pem_x509_certificate(api.cloud.ca_pem.encode()).subject
    ]
    tmp_path.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = tmp_path / "mqtt.crt", tmp_path / "mqtt.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return data, cert_file, key_file


async def connected_client(
    api: Rest, tmp_path: Path, clients: list[Paho], *topics: str
) -> tuple[Paho, dict[str, Any]]:
    """Log in, get a certificate, connect with it and subscribe to ``topics`` (all granted)."""
    await api.login()
    data, cert_file, key_file = await apply_certificate(api, tmp_path)
    client = Paho(api.cloud, data["clientId"], certfile=str(cert_file), keyfile=str(key_file))
    clients.append(client)
    assert await client.connect() == "connected"
    if topics:
        assert await client.subscribe(*topics) == [1] * len(topics)
    return client, data


# ---------------------------------------------------------------- REST


@pytest.mark.parametrize(
    ("token", "body", "expected"),
    [
        ("none", VECTOR_LOGIN, "63e84ac30b12afc83058926701c606b7"),
        ("tok123", "", "0c01af27edc6e807f6c427e17dc18714"),
    ],
    ids=["login", "empty-body"],
)
def test_signature_test_vectors(token: str, body: str, expected: str) -> None:
    headers = VECTOR_HEADERS | {"x-token": token}

    assert sign(headers, body) == expected
    assert client_sign(headers, body) == expected


async def test_signed_login_succeeds(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    # The doc's own test-vector body is a valid login of the fake's account.
    raw = VECTOR_LOGIN
    headers = api.headers(raw, token="none")
    async with api.session.post(
        thermomaven_cloud.base_url + rest.LOGIN, data=raw.encode(), headers=headers, ssl=api.ssl
    ) as response:
        answer = await response.json()

    assert answer["code"] == "0"
    assert answer["msg"] == "Your request has been successful."
    data = answer["data"]
    assert len(data["token"]) == 32
    assert data["userId"] == 291300000000000001
    assert data["user"]["userEmail"] == "user@example.com"
    assert data["setting"] == {"temperatureUnit": "F"}
    assert thermomaven_cloud.logins == 1
    # The email is matched case-insensitively.
    assert (await api.login(email="User@Example.COM"))["code"] == "0"
    assert thermomaven_cloud.logins == 2


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h: h.update({"x-sign": "0" * 32}), id="wrong-sign"),
        pytest.param(lambda h: h.update({"x-nonce": "f" * 32}), id="header-changed-after-signing"),
        pytest.param(lambda h: h.pop("x-timestamp"), id="missing-header"),
        pytest.param(lambda h: h.update({"x-appId": "ap0000"}), id="other-app-id"),
    ],
)
async def test_badly_signed_call_gets_40000(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    tamper: Callable[[dict[str, str]], None],
) -> None:
    await api.login()

    answer = await api.post(rest.USER_GET, tamper=tamper)

    assert answer == {"code": "40000", "msg": "Sign error", "data": None}
    assert thermomaven_cloud.requests[-1].problem


async def test_body_changed_after_signing_gets_40000(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    headers = api.headers('{"a":1}')
    async with api.session.post(
        thermomaven_cloud.base_url + rest.LOGIN, data=b'{"a":2}', headers=headers, ssl=api.ssl
    ) as response:
        assert (await response.json())["code"] == "40000"


@pytest.mark.parametrize(
    ("email", "password", "region"),
    [
        ("user@example.com", "wrong", "US"),
        ("someone@example.com", "hunter2", "US"),
        ("user@example.com", "hunter2", "DE"),  # the wrong data centre
    ],
    ids=["password", "email", "region"],
)
async def test_wrong_credentials_refused(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    email: str,
    password: str,
    region: str,
) -> None:
    body = {
        "accountName": email,
        "accountPassword": hashlib.md5(password.encode(), usedforsecurity=False).hexdigest(),
        "deviceInfo": "x",
    }
    answer = await api.post(rest.LOGIN, body, region=region)

    assert answer["code"] == rest.CODE_BAD_CREDENTIALS
    assert answer["data"] is None
    assert thermomaven_cloud.logins == 0


async def test_takeover_answers_an_unknown_code_until_login(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    await api.login()
    assert (await api.post(rest.USER_GET))["code"] == "0"

    phone_token = thermomaven_cloud.take_over_session()
    expired = await api.post(rest.USER_GET)

    assert expired["code"] == rest.CODE_TOKEN_EXPIRED == "4099"
    assert expired["msg"]
    assert (await api.post(rest.USER_GET, token=phone_token))["code"] == "0"
    assert (await api.login())["code"] == "0"
    assert (await api.post(rest.USER_GET))["code"] == "0"
    # Single session: the phone is out now.
    assert (await api.post(rest.USER_GET, token=phone_token))["code"] == "4099"
    assert thermomaven_cloud.logins == 2


async def test_fail_next_and_unreachable(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    await api.login()
    thermomaven_cloud.fail_next("50000", "Busy", count=2, path=rest.USER_GET)

    assert (await api.post(rest.USER_SETTING))["code"] == "0"  # another path
    assert (await api.post(rest.USER_GET))["code"] == "50000"
    assert (await api.post(rest.USER_GET))["code"] == "50000"
    assert (await api.post(rest.USER_GET))["code"] == "0"

    await thermomaven_cloud.set_unreachable("503")
    headers = api.headers("")
    async with api.session.post(
        thermomaven_cloud.base_url + rest.USER_GET, headers=headers, ssl=api.ssl
    ) as response:
        assert response.status == 503
    await thermomaven_cloud.set_unreachable("close")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(rest.USER_GET)
    await thermomaven_cloud.set_unreachable("refuse")
    with pytest.raises(aiohttp.ClientConnectorError):
        await api.post(rest.USER_GET)
    await thermomaven_cloud.set_reachable()
    assert (await api.post(rest.USER_GET))["code"] == "0"


async def test_unit_setting(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    thermomaven_cloud.set_unit("C")

    login = await api.login()
    report = await thermomaven_cloud.publish_status(WT09_ID)

    assert login["data"]["setting"] == {"temperatureUnit": "C"}
    assert (await api.post(rest.USER_SETTING))["data"] == {"temperatureUnit": "C"}
    probe1 = report["cmdData"]["probes"][0]
    assert probe1["setParams"] == [{"setTemperature": 950}]  # 203.0 °F = 95.0 °C
    assert probe1["curTemperature"] == 714  # 160.5 °F = 71.4 °C


async def test_device_lists(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    await api.login()

    owned = await api.post(rest.MY_DEVICES)
    shared = await api.post(rest.SHARED_DEVICES)

    assert [d["deviceId"] for d in owned["data"]] == [WT11_ID]
    assert owned["data"][0]["deviceModel"] == "WT11"
    assert [d["deviceModel"] for d in shared["data"]] == ["WT09", "WT10"]
    assert shared["data"][1] == {
        "deviceShareId": 243700000000000001,
        "deviceSn": "WTA0CC30A14A6B2ESA",
        "deviceName": "ThermoMaven G1 - 2ESA",
        "deviceModel": "WT10",
        "fromUserName": "Owner Name",
        "shareStatus": "accepted",
    }
    assert all("deviceId" not in d for d in shared["data"])
    # Each REST list call republished user:device:list on the user topic.
    lists = [p for p in thermomaven_cloud.published if p.topic == thermomaven_cloud.user_topic]
    assert len(lists) == 2
    assert lists[0].message["cmdType"] == "user:device:list"


# ---------------------------------------------------------------- certificate and MQTT


async def test_certificate_connects_with_mutual_tls_and_own_topics_only(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    client, data = await connected_client(api, tmp_path, paho_clients)

    assert data["clientId"] == f"android-{cloud.user_id}-US-{INSTALL_ID}"
    assert data["subTopics"] == [f"app/user/{cloud.user_id}/sub"]
    assert len(data["p12Password"]) == 32
    assert cloud.p12_downloads == 1
    own = [cloud.user_topic, cloud.device(WT11_ID).topic, cloud.device(WT10_ID).topic]
    assert await client.subscribe(*own) == [1, 1, 1]
    refused = [
        "device/WT11/216510650000000000/pub",  # a device of another account
        "app/user/291300000000000009/sub",  # another user
        "device/+/+/pub",  # wildcards are not in the policy
        "#",
    ]
    assert await client.subscribe(*refused) == [0x80] * len(refused)
    # Still connected and receiving on its own topics.
    await api.post(rest.MY_DEVICES)
    topic, message = await client.next(lambda t, m: True)
    assert (topic, message["cmdType"]) == (cloud.user_topic, "user:device:list")


async def test_mqtt_needs_a_certificate_from_the_cloud_ca(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    mark = thermomaven_cloud.mqtt_log_mark()
    without = Paho(thermomaven_cloud, "no-certificate")
    paho_clients.append(without)
    assert await without.connect() != "connected"
    await thermomaven_cloud.broker.wait_for_log(
        lambda line: "peer did not return a certificate" in line, since=mark
    )

    stranger = CloudCA(tmp_path / "stranger").issue_client("stranger", stem="stranger")
    foreign = Paho(
        thermomaven_cloud,
        "foreign-certificate",
        certfile=str(stranger.cert_path),
        keyfile=str(stranger.key_path),
    )
    paho_clients.append(foreign)
    assert await foreign.connect() != "connected"


async def test_command_yields_receipt_and_changed_status(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    topic = cloud.device(WT11_ID).topic
    client, _ = await connected_client(api, tmp_path, paho_clients, topic)

    answer = await api.post(rest.COMMAND, START_COMMAND)
    _, receipt = await client.next(lambda t, m: m["cmdType"] == "device:cmd:receipt")
    await cloud.publish_status(WT11_ID)
    _, report = await client.next(lambda t, m: m["cmdType"] == "WT11:status:report")

    assert answer == {"code": "0", "msg": rest.MSG_OK, "data": {"cmdId": START_COMMAND["cmdId"]}}
    assert receipt["deviceId"] == WT11_ID
    assert isinstance(receipt["cmdSeqNo"], str)
    assert receipt["cmdData"] == {
        "cmdId": START_COMMAND["cmdId"],
        "cmdType": "WT11:cooking:action",
        "executeResult": "success",
        "errorCode": 0,
        "cmdError": 0,
    }
    probe = report["cmdData"]["probes"][0]
    assert probe["cookingState"] == "cooking"
    assert probe["cooking"] is True
    assert probe["cookUuid"] == START_COMMAND["cmdData"]["cookUuid"]
    assert probe["setParams"] == [{"setTemperature": 2050}]
    assert [c.cmd_id for c in cloud.commands] == [START_COMMAND["cmdId"]]

    # Hot edit from another client than the one that started the cook: refused (512).
    edit = json.loads(json.dumps(START_COMMAND))
    edit["cmdId"] = uuid.uuid4().hex
    edit["cmdData"] |= {"startClient": "ios", "setParams": [{"setTemperature": 1900}]}
    await api.post(rest.COMMAND, edit)
    _, refused = await client.next(lambda t, m: m["cmdType"] == "device:cmd:receipt")
    assert refused["cmdData"]["cmdId"] == edit["cmdId"]
    assert refused["cmdData"]["executeResult"] == "failure"
    assert refused["cmdData"]["cmdError"] == 512

    # An offline device executes nothing and sends no receipt.
    cloud.set_online(WT11_ID, False)
    offline = await api.post(rest.COMMAND, edit | {"cmdId": uuid.uuid4().hex})
    assert offline["code"] == "0"
    assert (await cloud.wait_for_command(offline["data"]["cmdId"])).cmd_error is None
    await cloud.publish_status(WT11_ID)
    _, report = await client.next(lambda t, m: True)
    assert report["cmdType"] == "WT11:status:report"
    assert report["cmdData"] == {"globalStatus": "offline"}


async def test_stop_is_acknowledged_but_ignored_while_inserted(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    cloud = thermomaven_cloud
    await api.login()
    probe = cloud.probe(WT09_ID, "probe1")
    stop = {
        "deviceId": WT09_ID,
        "deviceType": "thermometer",
        "cmdType": "WT09:cooking:action",
        "cmdData": {"probeColor": "probe1", "cookingAction": 2, "cookUuid": probe.cook_uuid},
    }

    answer = await api.post(rest.COMMAND, stop)
    assert (await cloud.wait_for_command(answer["data"]["cmdId"])).cmd_error == 0
    assert probe.cooking

    probe.inserted = False
    answer = await api.post(rest.COMMAND, stop)
    assert (await cloud.wait_for_command(answer["data"]["cmdId"])).cmd_error == 0
    assert not probe.cooking
    receipts = [p.message for p in cloud.published if p.message["cmdType"] == "device:cmd:receipt"]
    assert [r["userId"] for r in receipts] == ["291300000000000002"] * 2  # the owner


async def test_three_device_shapes_as_documented(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    client, _ = await connected_client(api, tmp_path, paho_clients, *data_topics(cloud))

    listing = await cloud.publish_device_list()
    _, received = await client.next(lambda t, m: m["cmdType"] == "user:device:list")
    reports = {}
    for device_id in (WT11_ID, WT09_ID, WT10_ID):
        await cloud.publish_status(device_id)
        reports[device_id] = await client.next(lambda t, m: m["cmdType"].endswith(":status:report"))

    assert received == listing
    assert received["cmdSeqNo"] == -1
    assert received["deviceType"] == "user"
    devices = {d["deviceId"]: d for d in received["cmdData"]["devices"]}
    assert {i: d["subTopics"] for i, d in devices.items()} == {
        WT11_ID: [f"device/WT11/{WT11_ID}/pub"],
        WT09_ID: [f"device/WT09/{WT09_ID}/pub"],
        WT10_ID: [f"app/WT10/{WT10_ID}/sub"],  # the other shape
    }
    # deviceId is the third path segment of either shape.
    assert all(d["subTopics"][0].split("/")[2] == i for i, d in devices.items())
    assert [devices[i]["shareFlag"] for i in (WT11_ID, WT09_ID, WT10_ID)] == [0, 1, 1]
    assert devices[WT09_ID]["lastStatusCmd"]["cmdType"] == "WT09:status:report"

    for device_id, (topic, report) in reports.items():
        model = cloud.device(device_id).model
        assert topic == cloud.device(device_id).topic
        assert report["cmdType"] == f"{model}:status:report"
        assert (report["deviceId"], report["deviceModel"]) == (device_id, model)
        assert isinstance(report["cmdSeqNo"], str)
        assert report["cmdData"]["globalStatus"] == "online"
    probes = {i: r["cmdData"]["probes"] for i, (_, r) in reports.items()}
    assert [len(probes[i]) for i in (WT11_ID, WT09_ID, WT10_ID)] == [1, 4, 1]
    g4 = {p["probeColor"]: p for p in probes[WT09_ID]}
    assert [g4[c]["cookingState"] for c in ("probe1", "probe2", "probe3", "probe4")] == [
        "cooking",
        "cooking",
        "charged",
        "idle",
    ]
    # The docked probe shrinks to a stub (§2.5).
    assert g4["probe3"] == {
        "probeColor": "probe3",
        "cookingState": "charged",
        "cookingMode": "smart",
        "setParams": [{"setTemperature": 2000}],
    }
    assert g4["probe1"]["areaTemperature"] == [1605, 1622, 1650, 1741, 2180]
    assert g4["probe1"]["curTemperature"] in g4["probe1"]["areaTemperature"]
    assert g4["probe2"]["curRemainedSec"] is None
    assert reports[WT09_ID][1]["userId"] == "291300000000000002"  # shared: the owner
    assert reports[WT11_ID][1]["userId"] == cloud.user_id


def data_topics(cloud: FakeThermoMavenCloud) -> list[str]:
    """The user topic and every device topic, as the cloud hands them out."""
    return [cloud.user_topic, *(device.topic for device in cloud.devices.values())]


async def test_added_device_is_announced_and_subscribable(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    client, data = await connected_client(api, tmp_path, paho_clients, cloud.user_topic)
    new = Device("216510650011111111", "WTP2CC0000000003", "Oven P2", "WT02",
                 [Probe("probe1"), Probe("probe2", docked=True)])  # fmt: skip
    assert await client.subscribe(new.topic) == [0x80]

    await cloud.add_device(new)
    _, listing = await client.next(lambda t, m: m["cmdType"] == "user:device:list")
    assert [d["deviceId"] for d in listing["cmdData"]["devices"]][-1] == new.device_id
    mark = cloud.mqtt_log_mark()
    assert await client.subscribe(new.topic) == [1]  # granted without reconnecting
    assert await cloud.wait_for_subscription(new.topic, since=mark) == data["clientId"]
    await cloud.publish_status(new.device_id)
    _, report = await client.next(lambda t, m: m["cmdType"] == "WT02:status:report")
    assert len(report["cmdData"]["probes"]) == 2

    await cloud.remove_device(new.device_id)
    _, listing = await client.next(lambda t, m: m["cmdType"] == "user:device:list")
    assert new.device_id not in {d["deviceId"] for d in listing["cmdData"]["devices"]}
    assert await client.subscribe(new.topic) == [0x80]


async def test_corrupted_md5_and_probe_controls(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
) -> None:
    cloud = thermomaven_cloud
    await api.login()
    cloud.corrupt_next_md5()
    data = (await api.post(rest.CERT_APPLY))["data"]
    async with api.session.get(data["p12Url"], ssl=api.ssl) as response:
        p12 = await response.read()
    assert hashlib.md5(p12, usedforsecurity=False).hexdigest() != data["p12Md5"]

    cloud.undock_probe(WT09_ID, "probe3")
    cloud.dock_probe(WT09_ID, "probe1")
    cloud.remove_probe(WT09_ID, "probe4")
    report = await cloud.publish_status(WT09_ID)
    probes = {p["probeColor"]: p for p in report["cmdData"]["probes"]}
    assert sorted(probes) == ["probe1", "probe2", "probe3"]
    assert probes["probe1"]["cookingState"] == "charged"
    assert "cookUuid" not in probes["probe1"]
    assert probes["probe3"]["cookingState"] == "idle"
    assert "curTemperature" in probes["probe3"]


async def test_rights_and_cloud_link_survive_a_broker_restart(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    new = Device("216510650022222222", "WTP4DD0000000004", "P4", "WT06", [Probe("probe1")])
    await cloud.add_device(new, announce=False)
    await api.login()
    data, cert_file, key_file = await apply_certificate(api, tmp_path)

    await cloud.stop_mqtt()
    await cloud.start_mqtt()
    client = Paho(cloud, data["clientId"], certfile=str(cert_file), keyfile=str(key_file))
    paho_clients.append(client)
    assert await client.connect() == "connected"
    assert await client.subscribe(new.topic, "device/WT06/216510650000000000/pub") == [1, 0x80]
    await cloud.publish_status(new.device_id)  # over a fresh cloud link
    topic, _ = await client.next(lambda t, m: True)
    assert topic == new.topic


async def test_logout_and_malformed_calls(
    socket_enabled: None, thermomaven_cloud: FakeThermoMavenCloud, api: Rest
) -> None:
    await api.login()

    assert (await api.post(rest.LOGIN, {"accountName": "x"}, token=api.token))["code"] == "40001"
    assert (await api.post(rest.COMMAND, {"deviceId": WT11_ID}))["code"] == "40001"
    unknown = {"deviceId": "1", "cmdType": "WT11:cooking:action", "cmdData": {}}
    assert (await api.post(rest.COMMAND, unknown))["code"] == rest.CODE_NO_DEVICE
    assert (await api.post(rest.LOGOUT))["code"] == "0"
    assert (await api.post(rest.USER_GET))["code"] == rest.CODE_TOKEN_EXPIRED
    assert [r.code for r in thermomaven_cloud.requests_to(rest.USER_GET)] == ["4099"]


async def revoke_and_expect_refusal(cloud: FakeThermoMavenCloud, client: Paho) -> None:
    """Revoke: ``client`` is kicked, then its reconnection fails the TLS handshake."""
    assert await client.next_event() == "connected"
    mark = cloud.mqtt_log_mark()

    revoked = await cloud.revoke_certificates()

    assert revoked == [cloud.certificates[-1]]
    assert revoked[0].revoked
    assert (await client.next_event()).startswith("disconnected")  # kicked
    await cloud.broker.wait_for_log(
        lambda line: "been disconnected by administrative action" in line, since=mark
    )
    # paho reconnects on its own: the handshake fails against the CRL. With TLS 1.3 paho
    # sees the connection close ("disconnected Unspecified error"), no CONNACK:
    # mosquitto 2.0 cannot answer CONNACK 5 to a certificate client (see certificates.py).
    refused = await client.next_event()
    assert refused.startswith(("disconnected", "connect failed", "refused")), refused
    await cloud.broker.wait_for_log(lambda line: "certificate verify failed" in line, since=mark)
    client_id = revoked[0].client_id
    assert f"as {client_id} " not in cloud.broker.log()[mark:]  # never got in again
    client.close()


async def test_revoked_certificates_are_kicked_then_refused(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    client, _ = await connected_client(api, tmp_path / "first", paho_clients, cloud.user_topic)

    await revoke_and_expect_refusal(cloud, client)

    assert await cloud.revoke_certificates() == []  # nothing new to revoke
    fresh, _ = await connected_client(api, tmp_path / "second", paho_clients, cloud.user_topic)
    await cloud.publish_device_list()
    topic, _ = await fresh.next(lambda t, m: m["cmdType"] == "user:device:list")
    assert topic == cloud.user_topic
    assert [c.revoked for c in cloud.certificates] == [True, False]
    # Revoking again works too (the reloaded CRL replaces the first one).
    await revoke_and_expect_refusal(cloud, fresh)
    assert [c.revoked for c in cloud.certificates] == [True, True]


async def test_certificate_lifetime(
    socket_enabled: None,
    thermomaven_cloud: FakeThermoMavenCloud,
    api: Rest,
    paho_clients: list[Paho],
    tmp_path: Path,
) -> None:
    cloud = thermomaven_cloud
    assert cloud.certificate_days == 30
    await api.login()

    cloud.certificate_days = 1 / 24
    _, cert_file, _ = await apply_certificate(api, tmp_path / "hour")
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=58) < left <= dt.timedelta(hours=1)

    cloud.certificate_days = -1
    data, cert_file, key_file = await apply_certificate(api, tmp_path / "expired")
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert cert.not_valid_before_utc < cert.not_valid_after_utc < dt.datetime.now(dt.UTC)
    mark = cloud.mqtt_log_mark()
    client = Paho(cloud, data["clientId"], certfile=str(cert_file), keyfile=str(key_file))
    paho_clients.append(client)
    outcome = await client.connect()
    # The handshake fails (TLS 1.3: paho sees the connection close: "disconnected ...").
    assert outcome.startswith(("disconnected", "connect failed", "refused")), outcome
    await cloud.broker.wait_for_log(lambda line: "certificate verify failed" in line, since=mark)
