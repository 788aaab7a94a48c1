"""The benchmark workload: devices, topics, payloads and the value sequence (shared by all parts).

Message ``k`` of a device (``k`` = 1, 2, ... over the whole run) carries
``temperature(k)`` and ``humidity(k)``; both change on every message, so an
integration that skips unchanged values gets no free ride. The temperature
(-40.0 to 79.9, a DHT22's range) cycles through ``TEMP_CYCLE`` values: enough to
tell which message a state came from as long as fewer than ``TEMP_CYCLE``
messages of one device are missing in a row. The pair (temperature, humidity)
repeats only every lcm(TEMP_CYCLE, HUM_CYCLE) = 58,800 messages of a device, so
"every entity shows the values of the phase's last message" happens once per phase.
"""

from collections.abc import Iterator
import json

DATA_TOPIC = "iot/sensors/{device}/data"
DISCOVERY_TOPIC = "homeassistant/device/{device}/config"
TEMP_CYCLE = 1200
TEMP_MIN = -40.0
HUM_CYCLE = 49
ENTITY_PREFIX = "sensor.dev"
KEYS = ("temperature", "humidity")


def device_name(index: int) -> str:
    """Device 0 is dev0001."""
    return f"dev{index + 1:04d}"


def device_index(entity_id: str) -> int:
    """sensor.dev0001_temperature -> 0."""
    return int(entity_id[len(ENTITY_PREFIX) :].split("_", 1)[0]) - 1


def entity_id(index: int, key: str) -> str:
    return f"sensor.{device_name(index)}_{key}"


def temperature(k: int) -> float:
    return round(TEMP_MIN + (k % TEMP_CYCLE) / 10, 1)


def temperature_slot(state: str) -> int | None:
    """k % TEMP_CYCLE of the message a temperature state came from."""
    try:
        return round((float(state) - TEMP_MIN) * 10) % TEMP_CYCLE
    except TypeError, ValueError:
        return None


def humidity(k: int) -> int:
    return 20 + k % HUM_CYCLE


def data_payload(device: str, k: int) -> bytes:
    return (
        f'{{"device_id": "{device}", "temperature": {temperature(k)}, '
        f'"humidity": {humidity(k)}, "seq": {k}}}'
    ).encode()


def discovery_payload(device: str) -> bytes:
    """Device-based discovery: two sensors reading the device's JSON data topic."""
    state_topic = DATA_TOPIC.format(device=device)
    config = {
        "device": {
            "identifiers": [device],
            "name": device,
            "manufacturer": "IoT Hub benchmark",
            "model": "DHT11",
        },
        "origin": {"name": "iot_hub benchmark"},
        "state_topic": state_topic,
        "qos": 0,
        "components": {
            f"{device}_temperature": {
                "platform": "sensor",
                "name": "Temperature",
                "device_class": "temperature",
                "unit_of_measurement": "°C",
                "state_class": "measurement",
                "suggested_display_precision": 1,
                "value_template": "{{ value_json.temperature }}",
                "unique_id": f"{device}_temperature",
            },
            f"{device}_humidity": {
                "platform": "sensor",
                "name": "Humidity",
                "device_class": "humidity",
                "unit_of_measurement": "%",
                "state_class": "measurement",
                "suggested_display_precision": 0,
                "value_template": "{{ value_json.humidity }}",
                "unique_id": f"{device}_humidity",
            },
        },
    }
    return json.dumps(config, ensure_ascii=False).encode()


def stream_messages(devices: int, k0: int, rounds: int) -> Iterator[tuple[str, bytes]]:
    """Message i goes to device i % devices and carries k = k0 + i // devices."""
    names = [device_name(d) for d in range(devices)]
    topics = [DATA_TOPIC.format(device=name) for name in names]
    for r in range(rounds):
        k = k0 + r
        for d in range(devices):
            yield topics[d], data_payload(names[d], k)


def final_values(devices: int, k: int) -> dict[str, float]:
    """What every entity shows once message k of every device is applied."""
    expect: dict[str, float] = {}
    for d in range(devices):
        expect[entity_id(d, "temperature")] = temperature(k)
        expect[entity_id(d, "humidity")] = float(humidity(k))
    return expect
