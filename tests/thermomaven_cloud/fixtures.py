"""The ``thermomaven_cloud`` fixture: a fake ThermoMaven cloud (HTTPS REST + mosquitto) per test.

Import it into a test module or conftest::

    from .thermomaven_cloud.fixtures import thermomaven_cloud  # noqa: F401

The fixture yields a started ``FakeThermoMavenCloud`` (see ``cloud.py``):

- addresses: ``base_url`` (https://127.0.0.1:<port>), ``ca_pem``/``ca_path`` (trust it for
  HTTPS and MQTT), ``mqtt_host``/``mqtt_port`` (mutual TLS), ``user_topic``;
- the account: ``email`` ("user@example.com", matched case-insensitively), ``password``
  ("hunter2"), ``user_id``, ``user_name``, ``unit``, ``regions``;
- the devices (``devices``, ``device(id)``, ``probe(id, color)``): a WT11 (1 probe,
  ``device/WT11/<id>/pub``, owned), a WT09 (4 probes, probe3 docked, shared) and a WT10 on
  the other topic shape ``app/WT10/<id>/sub`` (shared); ids in ``devices.WT11_ID`` etc.;
- records: ``requests`` (``requests_to(path)``), ``commands``, ``published``,
  ``certificates``, ``logins``, ``p12_downloads``, ``tokens``/``last_token``;
- controls: ``set_unit``, ``add_device``/``remove_device`` (async), ``add_probe``/
  ``remove_probe``, ``dock_probe``/``undock_probe``, ``set_online``, ``take_over_session``,
  ``expire_tokens``, ``set_unreachable(mode)``/``set_reachable`` (async), ``fail_next``,
  ``corrupt_next_md5``, ``revoke_certificates()`` (async: the MQTT certificates issued so
  far are kicked and then fail the TLS handshake, as no CONNACK 5 is possible; see
  ``certificates.py``), ``certificate_days`` (lifetime of new MQTT certificates, default
  30; ``1 / 24`` an hour, negative already expired: the handshake fails), and the
  switches ``single_session``, ``device_list_on_rest``, ``receipts``,
  ``status_after_command``, ``reports_follow_unit``, ``p12_with_chain``,
  ``cert_apply_extra``;
- MQTT (async): ``publish_status(id)``, ``publish_device_list()``, ``publish(topic, msg)``,
  ``wait_for_subscription(topic, since=mqtt_log_mark())``, ``wait_for_command(cmd_id)``;
  ``stop_mqtt()``/``start_mqtt()`` for an MQTT outage (``broker`` is the mosquitto).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from .cloud import FakeThermoMavenCloud


@pytest.fixture
async def thermomaven_cloud(
    socket_enabled: None, tmp_path: Path
) -> AsyncIterator[FakeThermoMavenCloud]:
    """A running fake ThermoMaven cloud, stopped after the test whatever its outcome."""
    # Key generation and file writes off the event loop.
    cloud = await asyncio.get_running_loop().run_in_executor(
        None, FakeThermoMavenCloud, tmp_path / "thermomaven-cloud"
    )
    try:
        await cloud.start()
        yield cloud
    finally:
        await cloud.stop()
