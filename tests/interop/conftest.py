"""Fixtures of the interop tests: one broker of each implementation per test, and its entry."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..conftest import DOMAIN, broker_data
from .brokers import BROKERS, InteropBroker


@pytest.fixture(params=sorted(BROKERS))
def interop_broker(
    request: pytest.FixtureRequest, socket_enabled: None, tmp_path: Path
) -> Iterator[InteropBroker]:
    """A running ejabberd, amqtt or aedes broker, killed after the test whatever its outcome."""
    broker = BROKERS[request.param](tmp_path / request.param)
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()


@pytest.fixture
def make_interop_entry(
    hass: HomeAssistant, interop_broker: InteropBroker
) -> Callable[..., MockConfigEntry]:
    """Return a factory adding a broker entry for the interop broker to hass."""

    def factory(options: dict[str, Any] | None = None, **data: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"{interop_broker.host}:{interop_broker.port}",
            # broker_data reads host, port_password, username and password.
            data=broker_data(interop_broker, **data),
            options=options or {},
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(hass)
        return entry

    return factory
