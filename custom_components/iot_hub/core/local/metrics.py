"""The numeric values IoT Hub knows, their accepted names and plausible ranges.

Units are fixed by the Home Assistant layer; a value is taken to be in the unit
listed next to its metric (°C, %, dBm, bpm, hPa, mg/dL, s).
"""

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Metric:
    """A value a device may report, under its key or one of its aliases."""

    key: str
    aliases: tuple[str, ...]
    minimum: float
    maximum: float


# Ten (Julian) years, in seconds.
_TEN_YEARS_S = 10 * 365.25 * 24 * 3600

METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        # °C
        Metric("temperature", ("temp", "temperatura", "temperature_c"), -40.0, 125.0),
        # %
        Metric("humidity", ("hum", "humidite", "humedad"), 0.0, 100.0),
        # %
        Metric("battery", ("battery_level", "bat", "niveau_batterie", "bateria"), 0.0, 100.0),
        # dBm
        Metric("rssi", ("signal", "signal_strength", "wifi_rssi"), -130.0, 0.0),
        # %
        Metric("signal_quality", ("qualite_signal", "calidad_senal"), 0.0, 100.0),
        # bpm
        Metric("heart_rate", ("hr", "bpm", "frequence_cardiaque"), 20.0, 250.0),
        # %
        Metric("spo2", ("oxygen", "oxygene", "saturation"), 50.0, 100.0),
        # hPa
        # Not "pression": health monitors use it for blood pressure, not air pressure.
        Metric("pressure", ("barometric_pressure", "air_pressure"), 300.0, 1100.0),
        # mg/dL
        Metric("glucose", ("glycemie", "glucosa"), 20.0, 600.0),
        # s
        Metric("uptime", ("uptime_s",), 0.0, _TEN_YEARS_S),
    )
}

# Every accepted name, lower-cased, to its metric.
_BY_NAME = MappingProxyType(
    {name.lower(): metric for metric in METRICS.values() for name in (metric.key, *metric.aliases)}
)


def metric_for(name: object) -> Metric | None:
    """Find the metric `name` designates (its key or an alias, any case), if any."""
    if not isinstance(name, str):
        return None
    # Most payloads spell the names in lower case already: no copy for those.
    if (metric := _BY_NAME.get(name)) is not None or len(name) > 64:
        return metric
    return _BY_NAME.get(name.lower())
