"""The DHT11 topics: `dht11/sensor/data` readings and `dht11/status`."""

from collections.abc import Mapping
from typing import Final

from .common import as_number, find_device_time, parse_json_object
from .models import DeviceModel, Reading, Rejected, Rejection, Status
from .status import decode_status

# The DHT11 topics carry one device, on fixed topics.
DHT11_DEVICE_ID: Final = "dht11"
# What a DHT11 can measure (datasheet): outside it, a reading is a wiring or
# firmware fault, not weather.
DHT11_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "temperature": (0.0, 50.0),
    "humidity": (0.0, 100.0),
}


def decode_dht11(payload: bytes) -> Reading | Rejected:
    """Decode `dht11/sensor/data`: `{"temperature": 25.5, "humidity": 60}` (the DHT11 topic).

    Either value may be missing (or null), not both; each must be a JSON number
    within what a DHT11 measures (0..50 °C, 0..100 %). Other keys are ignored.
    """
    data = parse_json_object(payload)
    if isinstance(data, Rejected):
        return data
    values: dict[str, float] = {}
    for key, bounds in DHT11_RANGES.items():
        value = data.get(key)
        if value is None:
            continue
        number = as_number(key, value, bounds, text=False)
        if isinstance(number, Rejected):
            return number
        values[key] = number
    if not values:
        return Rejected(Rejection.NO_VALUES)
    return Reading(
        device_id=DHT11_DEVICE_ID,
        values=values,
        model=DeviceModel.DHT11,
        device_time=find_device_time(data),
    )


def decode_dht11_status(payload: bytes) -> Status | Rejected:
    """Decode `dht11/status`: `{"status": "online"}` or plain `online` / `offline`."""
    return decode_status(DHT11_DEVICE_ID, payload, check_device=False)
