"""MqttClient over TLS against a real Mosquitto: CA, verification, client certificates."""

from __future__ import annotations

from pathlib import Path
import stat

import pytest

from custom_components.iot_hub.core.mqtt.errors import ConnectFailure
from custom_components.iot_hub.core.mqtt.settings import TlsMode, TlsSettings
from custom_components.iot_hub.core.mqtt.tls import CLIENT_CERT_FILE, CLIENT_KEY_FILE

from ...broker import Mosquitto
from .helpers import MakeClient, assert_round_trip, connect_failure, settings_for, tls_settings


async def test_tls_with_custom_ca(mosquitto: Mosquitto, make_client: MakeClient) -> None:
    settings = settings_for(mosquitto, port=mosquitto.port_tls, tls=tls_settings(mosquitto))
    client, recorder = make_client(settings)
    await client.connect()
    assert client.connected
    await assert_round_trip(client, recorder, "tls/echo")


async def test_tls_with_wrong_ca_is_an_invalid_certificate(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    tls = tls_settings(mosquitto, ca_pem=mosquitto.pki.wrong_ca_cert_pem)
    client, _ = make_client(settings_for(mosquitto, port=mosquitto.port_tls, tls=tls))
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.INVALID_CERTIFICATE


async def test_tls_with_wrong_ca_connects_without_verification(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    tls = tls_settings(mosquitto, ca_pem=mosquitto.pki.wrong_ca_cert_pem, verify=False)
    client, recorder = make_client(settings_for(mosquitto, port=mosquitto.port_tls, tls=tls))
    await client.connect()
    assert client.connected
    await assert_round_trip(client, recorder, "insecure/echo")


async def test_mutual_tls_with_client_certificate(
    mosquitto: Mosquitto, make_client: MakeClient, tmp_path: Path
) -> None:
    pki = mosquitto.pki
    tls = tls_settings(
        mosquitto, client_cert_pem=pki.client_cert_pem, client_key_pem=pki.client_key_pem
    )
    tls_dir = tmp_path / "tls"
    settings = settings_for(
        mosquitto, port=mosquitto.port_mtls, tls=tls, tls_dir=tls_dir, username=None, password=None
    )
    client, recorder = make_client(settings)
    await client.connect()
    assert client.connected

    key = tls_dir / CLIENT_KEY_FILE
    assert key.read_text() == pki.client_key_pem
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tls_dir / CLIENT_CERT_FILE).read_text() == pki.client_cert_pem
    await assert_round_trip(client, recorder, "mtls/echo")


async def test_mutual_tls_without_client_certificate_is_required(
    mosquitto: Mosquitto, make_client: MakeClient
) -> None:
    settings = settings_for(
        mosquitto, port=mosquitto.port_mtls, tls=tls_settings(mosquitto), username=None
    )
    client, _ = make_client(settings)
    err = await connect_failure(client)
    assert err.reason is ConnectFailure.CLIENT_CERT_REQUIRED


@pytest.mark.parametrize(
    ("tls", "reason"),
    [
        (
            TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem="not a certificate"),
            ConnectFailure.INVALID_CA,
        ),
        (TlsSettings(mode=TlsMode.CUSTOM_CA, ca_pem=None), ConnectFailure.INVALID_CA),
        (
            TlsSettings(
                mode=TlsMode.SYSTEM_CA, client_cert_pem="garbage", client_key_pem="garbage"
            ),
            ConnectFailure.INVALID_CLIENT_CERT,
        ),
        (
            TlsSettings(mode=TlsMode.SYSTEM_CA, client_cert_pem="cert without key"),
            ConnectFailure.INVALID_CLIENT_CERT,
        ),
    ],
    ids=["garbage-ca", "missing-ca", "garbage-client-cert", "cert-without-key"],
)
async def test_unusable_tls_material(
    mosquitto: Mosquitto,
    make_client: MakeClient,
    tmp_path: Path,
    tls: TlsSettings,
    reason: ConnectFailure,
) -> None:
    settings = settings_for(mosquitto, port=mosquitto.port_tls, tls=tls, tls_dir=tmp_path)
    client, recorder = make_client(settings)
    err = await connect_failure(client)
    assert err.reason is reason
    assert recorder.changes.empty()
