"""Fixtures of the ThermoMaven tests: no Home Assistant, a test PKI, a fake HTTPS cloud."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
import pytest

from custom_components.iot_hub.core.thermomaven.api import ThermoMavenApi

from .fake_cloud import FakeCloud
from .pki import Pki, generate_pki

DEVICE_SN = "0123456789abcdef0123456789abcdef"
P12_PASSWORD = "c4ca4238a0b923820dcc509a6f75849b"

type MakeApi = Callable[..., ThermoMavenApi]


# Plain unit tests: replace the Home Assistant fixtures tests/conftest.py makes autouse.
@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def isolated_config_dir() -> None:
    """No Home Assistant here."""


@pytest.fixture(autouse=True)
def fast_backoff() -> None:
    """No MQTT client here."""


@pytest.fixture(scope="session")
def tm_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return generate_pki(tmp_path_factory.mktemp("thermomaven-pki"))


@pytest.fixture
async def cloud(socket_enabled: None, tm_pki: Pki) -> AsyncIterator[FakeCloud]:
    """A fake cloud on https://127.0.0.1:<port> with a certificate of the test CA."""
    fake = FakeCloud(p12=tm_pki.client_p12(P12_PASSWORD), p12_password=P12_PASSWORD)
    server = TestServer(fake.app())
    await server.start_server(ssl=tm_pki.server_context())
    fake.base = str(server.make_url("/")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()


@pytest.fixture
async def session(tm_pki: Pki) -> AsyncIterator[aiohttp.ClientSession]:
    """A session whose SSL context trusts only the test CA."""
    connector = aiohttp.TCPConnector(ssl=tm_pki.client_context())
    async with aiohttp.ClientSession(connector=connector) as client_session:
        yield client_session


@pytest.fixture
def make_api(cloud: FakeCloud, session: aiohttp.ClientSession) -> MakeApi:
    def factory(**kwargs: Any) -> ThermoMavenApi:
        kwargs.setdefault("region", "US")
        kwargs.setdefault("device_sn", DEVICE_SN)
        kwargs.setdefault("base_url", cloud.base)
        return ThermoMavenApi(session, **kwargs)

    return factory
