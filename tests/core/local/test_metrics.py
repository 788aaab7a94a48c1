"""The metrics IoT Hub knows: keys, aliases (any case) and plausible ranges."""

from typing import Any

import pytest

from custom_components.iot_hub.core.local.metrics import METRICS, Metric, metric_for


def test_metrics_table() -> None:
    assert set(METRICS) == {
        "temperature",
        "humidity",
        "battery",
        "rssi",
        "signal_quality",
        "heart_rate",
        "spo2",
        "pressure",
        "glucose",
        "uptime",
    }
    for key, metric in METRICS.items():
        assert metric.key == key
        assert metric.minimum < metric.maximum
        assert metric_for(key) is metric
        for alias in metric.aliases:
            assert metric_for(alias) is metric
            assert metric_for(alias.upper()) is metric
    assert METRICS["temperature"] == Metric(
        "temperature", ("temp", "temperatura", "temperature_c"), -40.0, 125.0
    )
    assert METRICS["uptime"].maximum == pytest.approx(10 * 365.25 * 86400)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Temp", "temperature"),
        ("HUMIDITE", "humidity"),
        ("Battery_Level", "battery"),
        ("signal_strength", "rssi"),
        ("calidad_senal", "signal_quality"),
        ("HR", "heart_rate"),
        ("Saturation", "spo2"),
        ("barometric_pressure", "pressure"),
        ("glucosa", "glucose"),
        ("uptime_s", "uptime"),
    ],
)
def test_metric_for_aliases(name: str, key: str) -> None:
    metric = metric_for(name)
    assert metric is not None
    assert metric.key == key


@pytest.mark.parametrize("name", ["", "lux", "temperature ", "température", "t" * 100, 3])
def test_metric_for_unknown(name: Any) -> None:
    assert metric_for(name) is None
