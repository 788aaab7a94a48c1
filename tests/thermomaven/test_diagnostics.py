"""ThermoMaven diagnostics and logs: nothing that identifies the account or opens it."""

from collections.abc import Callable
import json
import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.iot_hub.core.thermomaven.api import password_md5

from ..helpers import wait_for_value
from ..thermomaven_cloud.cloud import FakeThermoMavenCloud
from .test_session import set_target
from .test_setup import started

CLOUD_CONNECTION = "binary_sensor.thermomaven_u_example_com_cloud_connection"


def secrets(cloud: FakeThermoMavenCloud, tmp_path: Path) -> dict[str, str]:
    """Every secret the run handled: tokens, password and hash, P12 passwords, the key."""
    found = {
        "password": cloud.password,
        "password md5": password_md5(cloud.password),
        "email": cloud.email,
    }
    tokens = {request.headers.get("x-token") for request in cloud.requests}
    tokens = {token for token in tokens | {cloud.last_token} if token and token != "none"}
    assert len(tokens) >= 2  # the first one and the one after the re-login
    found |= {f"token {n}": token for n, token in enumerate(sorted(tokens))}
    for n, certificate in enumerate(cloud.certificates):
        found[f"p12 password {n}"] = certificate.password
        key = certificate.leaf.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        lines = key.decode().splitlines()
        found[f"key {n}"] = lines[len(lines) // 2]  # a 64-character line of the key
    key_files = list(tmp_path.rglob("client.key"))
    assert key_files, "the client key is written for ssl"
    return found


async def test_no_secret_in_logs_states_or_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: FakeThermoMavenCloud,
    make_account_entry: Callable[..., MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Setup, commands, a re-login, an MQTT outage and diagnostics, all at DEBUG."""
    caplog.set_level(logging.DEBUG)
    entry = await started(hass, make_account_entry, cloud)
    await set_target(hass, 60)
    cloud.expire_tokens()
    await set_target(hass, 61)
    await cloud.stop_mqtt()
    await wait_for_value(hass, CLOUD_CONNECTION, "off")
    await cloud.start_mqtt()
    await wait_for_value(hass, CLOUD_CONNECTION, "on")
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    shown = {
        "logs": caplog.text,
        "diagnostics": json.dumps(diagnostics),
        "states": json.dumps([state.as_dict() for state in hass.states.async_all()], default=str),
    }
    for what, secret in secrets(cloud, tmp_path).items():
        for where, text in shown.items():
            assert secret not in text, f"{what} in {where}"
    # Diagnostics also leave out what identifies the account and its devices.
    text = shown["diagnostics"]
    for identifying in (cloud.user_id, *cloud.devices, *(d.serial for d in cloud.devices.values())):
        assert identifying not in text
    assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
    assert diagnostics["runtime"]["connected"] is True
    assert [t["model"] for t in diagnostics["runtime"]["thermometers"]] == ["WT11", "WT09", "WT10"]
