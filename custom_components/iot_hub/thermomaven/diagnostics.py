"""What a ThermoMaven entry's diagnostics show: connection, certificate, thermometers.

Everything that identifies the account or a device is left out or redacted by the caller:
email, token, password hash, install id, certificates and keys, user id, serial numbers,
device ids (thermometers are numbered instead).
"""

from typing import Any

from ..core.thermomaven.fleet import Thermometer
from .runtime import ThermoMavenRuntime


def _thermometer(number: int, device: Thermometer) -> dict[str, Any]:
    report = device.report
    return {
        "number": number,
        "model": device.listed.model,
        "shared": device.listed.shared,
        "firmware": device.listed.firmware_version,
        "topics": len(device.listed.sub_topics),
        "online": device.online,
        "unit": None if report is None else report.unit.value,
        "battery": None if report is None else report.battery,
        "wifi_rssi": None if report is None else report.wifi_rssi,
        "slots": sorted(device.slots),
        "probes": [
            {
                "slot": probe.slot,
                "docked": probe.docked,
                "cooking_state": probe.cooking_state,
                "temperature": probe.temperature,
                "target": probe.target,
                "battery": probe.battery,
            }
            for probe in (report.probes if report is not None else ())
        ],
    }


def thermomaven_diagnostics(runtime: ThermoMavenRuntime) -> dict[str, Any]:
    """Describe a ThermoMaven entry's runtime without anything identifying."""
    client = runtime.client
    access = runtime.access
    return {
        "region": runtime.region.code,
        "data_centre": runtime.region.data_centre.value,
        "unit": runtime.unit.value,
        "connected": runtime.connected,
        "available": runtime.availability.available,
        "certificate_expires": None if access is None else access.expires.isoformat(),
        "subscriptions": 0 if client is None else len(client.subscriptions),
        "client": None
        if client is None
        else {
            "connects": client.stats.connects,
            "connection_losses": client.stats.connection_losses,
            "failed_attempts": client.stats.failed_attempts,
            "messages_received": client.stats.messages_received,
        },
        "session_takeovers": runtime.session.guard.total,
        "rejected_messages": dict(runtime.rejected),
        "thermometers": [
            _thermometer(number, device) for number, device in enumerate(runtime.fleet, 1)
        ],
    }
