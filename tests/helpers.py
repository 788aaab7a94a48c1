"""What the tests share: waiting on what a user sees (no sleeps), the broker CLIs, seed payloads."""

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass
import subprocess

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_hub.core.local.models import Rejected, Rejection

from .broker import Mosquitto

TIMEOUT = 15.0
CLI_TIMEOUT = 15.0
DOMAIN = "iot_hub"

# ---------------------------------------------------------------- seed payloads

# Seed 000: the DHT11 sketch's topic and the troubleshooting section's command.
DHT11_TOPIC = "dht11/sensor/data"
DHT11_READING = '{"temperature":25,"humidity":60}'
# Seed 001, "Test 1", verbatim (multi-line, as the user types it).
SEED_001_MOTION = """{
    "event_id": "test-123",
    "device_id": "raspberry-1",
    "source": "sensor-motion",
    "type": "MOTION_DETECTED",
    "data": {"presence": true},
    "timestamp": 1234567890
  }"""
SEED_001_PRESSURE = (
    '{"event_id": "p-1", "device_id": "raspberry-1", "source": "sensor-pressure",'
    ' "type": "PRESSURE_DETECTED", "data": {"pressure": "high", "duration_ms": 500},'
    ' "timestamp": 1734567890.123}'
)
# Seed 002: the ESP32 sketch's flat payload and the Raspberry Pi's nested one.
ESP32_TOPIC = "iot/sensors/ESP32_001/data"
SEED_002_ESP32 = '{"device_id":"ESP32_001","temperature":23.5,"humidity":48.2,"timestamp":61234}'
SEED_002_RPI = (
    '{"device_id": "RPI_001", "sensors": {"temperature": 21.0, "humidity": 55.0},'
    ' "timestamp": 1734567890}'
)

# ---------------------------------------------------------------- entity ids

DHT11_TEMP = "sensor.dht11_temperature"
DHT11_HUM = "sensor.dht11_humidity"
ESP_TEMP = "sensor.esp32_001_temperature"
ESP_HUM = "sensor.esp32_001_humidity"
ESP_CONN = "binary_sensor.esp32_001_connectivity"
MOTION = "binary_sensor.raspberry_1_motion"
OCCUPANCY = "binary_sensor.raspberry_1_occupancy"


def hub_sensor(broker: Mosquitto, name: str) -> str:
    """Entity id of one of the hub device's sensors (rejected_messages, devices...)."""
    return f"sensor.iot_hub_127_0_0_1_{broker.port_password}_{name}"


def broker_connection(broker: Mosquitto) -> str:
    """Entity id of the hub device's broker-connection binary sensor."""
    return f"binary_sensor.iot_hub_127_0_0_1_{broker.port_password}_broker_connection"


# ---------------------------------------------------------------- Home Assistant


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up and wait until it is loaded."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


def device_of(
    device_registry: dr.DeviceRegistry, entry: MockConfigEntry, device_id: str | None = None
) -> dr.DeviceEntry:
    """The registry device of one of the entry's devices (the hub device without an id)."""
    identifier = entry.entry_id if device_id is None else f"{entry.entry_id}_{device_id}"
    device = device_registry.async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None, f"no device {identifier}"
    return device


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    predicate: Callable[[State], bool],
    timeout: float = TIMEOUT,
) -> State:
    """Return the entity's state once `predicate` holds (now or after a change)."""
    state = hass.states.get(entity_id)
    if state is not None and predicate(state):
        return state
    done: asyncio.Future[State] = hass.loop.create_future()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and predicate(new) and not done.done():
            done.set_result(new)

    unsub = async_track_state_change_event(hass, [entity_id], changed)
    try:
        async with asyncio.timeout(timeout):
            return await done
    except TimeoutError:
        raise AssertionError(
            f"{entity_id} never matched; last state: {hass.states.get(entity_id)}"
        ) from None
    finally:
        unsub()


async def wait_for_value(
    hass: HomeAssistant, entity_id: str, value: str, timeout: float = TIMEOUT
) -> State:
    """Return the entity's state once it equals `value`."""
    return await wait_for_state(hass, entity_id, lambda s: s.state == value, timeout)


def record_states(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Return a list that collects every state the entity takes from now on."""
    states: list[str] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            states.append(new.state)

    async_track_state_change_event(hass, [entity_id], changed)
    return states


# ---------------------------------------------------------------- mosquitto CLIs


@dataclass(frozen=True, slots=True)
class Result:
    """What a mosquitto CLI returned and printed."""

    returncode: int
    stdout: str
    stderr: str


async def run(*args: str) -> Result:
    """Run a mosquitto CLI to completion."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(proc.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


def creds(broker: Mosquitto) -> list[str]:
    """The CLI arguments of the broker's password listener credentials."""
    return ["-u", broker.username, "-P", broker.password]


async def wait_for_log(broker: Mosquitto, text: str) -> None:
    """Wait until the broker has logged ``text`` (it may lag behind the CLI's exit)."""
    async with asyncio.timeout(CLI_TIMEOUT):
        while text not in broker.log():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def live_subscriber(broker: Mosquitto, topic: str) -> AsyncIterator[asyncio.StreamReader]:
    """Yield the stdout of a ``mosquitto_sub`` once the broker has acknowledged its subscription.

    It prints one message, hex-encoded (``-F %x``), then exits. The broker log is
    watched rather than ``mosquitto_sub -d``: the CLI's stdout is block-buffered
    when it is a pipe, so its SUBACK line only shows up at exit.
    """
    client_id = f"live-{topic.replace('/', '-')}"
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_sub",
        *["-h", broker.host, "-p", str(broker.port_password), *creds(broker), "-i", client_id],
        *["-t", topic, "-C", "1", "-W", "5", "-F", "%x"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        await wait_for_log(broker, f"Sending SUBACK to {client_id}")
        yield proc.stdout
        async with asyncio.timeout(CLI_TIMEOUT):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# ---------------------------------------------------------------- decoders


def rejected(result: object, reason: Rejection) -> Rejected:
    """Assert a decoder refused its payload for `reason`; return the rejection."""
    assert isinstance(result, Rejected), result
    assert result.reason is reason, result
    return result
