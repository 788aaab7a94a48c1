"""IoT simulator: publishes what the user's DHT11, event and fleet systems publish.

Reproduces the user's devices on one MQTT connection, one printed line per message:
  DHT11 topics         readings to ``<dht11-base>/sensor/data`` as ``{"temperature": 22.4,
                       "humidity": 55}``, the status to ``<dht11-base>/status`` as
                       ``{"status": "online"}`` (retained)
  event envelopes      PIR motion sensors and pressure mats: ``{"event_id", "device_id",
                       "source", "type", "data", "timestamp"}`` to ``<events-base>/motion`` and
                       ``<events-base>/pressure``
  IoT platform topics  the ESP32 / Raspberry Pi fleet: ESP32 readings to
                       ``<iot-base>/sensors/ESP32_001/data`` as ``{"device_id", "temperature",
                       "humidity", "timestamp": <millis() since boot>}``, Raspberry Pi ones to
                       ``<iot-base>/sensors/RPI_001/data`` as ``{"device_id", "sensors":
                       {"temperature", "humidity"}, "timestamp": <epoch s>}``; each device's
                       status (online at start, offline at a clean stop) retained on
                       ``<iot-base>/devices/<id>/status``

Modes:
  continuous  a realistic DHT11 reading every --interval seconds, drifting slowly
  drop        a slow temperature drop: from about 20 °C down 1 °C per interval until the
              reading is below 5 °C (MQTT_TEMP_MIN of the user's system, and IoT Hub's default
              temperature rule), so a low-temperature incident opens after the rule's minimum
              duration (60 s)
  single      one DHT11 reading (--temp T --hum H), then exit
  motion      a MOTION_DETECTED event of --device every --interval seconds, each followed
              --clear-after S seconds later (if given) by the same with presence false
  pressure    a PRESSURE_DETECTED event of --device every --interval seconds
  fleet       --devices N boards (--layout esp32 | rpi | mixed: the first half, rounded up,
              ESP32, the rest Raspberry Pi), one reading per device every --interval seconds
  demo        all at once (what scripts/develop runs): the DHT11 in cold spells (from --temp,
              default 8 °C, down 1 °C per reading to 3 °C, held --cold-readings readings, so
              IoT Hub's default temperature rule opens an incident, then back up to 22 °C and
              --warm-readings readings there before the next spell), the fleet (by default
              5 mixed: 3 ESP32 + 2 Raspberry Pi) every --interval seconds, a motion event every
              ~--motion-every and a pressure event every ~--pressure-every seconds (the first
              of each right away)
--count: readings (continuous, drop), events (motion, pressure) or rounds (fleet, demo);
0 = forever (drop: until below 5 °C).

Examples:
  .venv/bin/python scripts/simulator.py continuous --interval 5
  .venv/bin/python scripts/simulator.py --port 1884 --username iot --password iot drop
  .venv/bin/python scripts/simulator.py single --temp 3 --hum 60
  .venv/bin/python scripts/simulator.py motion --count 1 --clear-after 5
  .venv/bin/python scripts/simulator.py fleet --devices 4 --layout rpi --interval 2
  .venv/bin/python scripts/simulator.py demo --interval 5
"""

import argparse
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import datetime as dt
import heapq
import importlib.util
import json
import math
import os
from pathlib import Path
import random
import signal
import sys
import threading
import time
from types import FrameType, ModuleType
from typing import Any
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode


def _integration_module(relative: str) -> ModuleType:
    """Load a module of the integration's Home-Assistant-free core from this checkout.

    Loaded by its path: importing it as ``custom_components.iot_hub.core...`` would first run
    the integration's ``__init__.py``, which imports Home Assistant, and the simulator needs
    only paho-mqtt. The module must import nothing but the standard library.
    """
    path = Path(__file__).resolve().parents[1] / "custom_components" / "iot_hub" / relative
    spec = importlib.util.spec_from_file_location(f"_iot_hub_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


# The integration's own rule for base topics: non-empty, no wildcards, no empty level.
valid_base = _integration_module("core/local/topics.py").valid_base

# MQTT_TEMP_MIN of the user's system and IoT Hub's default rule: below it, an incident opens.
TEMP_MIN = 5.0
DROP_START = 20.0
DROP_STEP = 1.0
CONNECT_TIMEOUT = 10.0
PUBLISH_TIMEOUT = 10.0

DHT11_MODES = ("continuous", "drop", "single")
MODES = (*DHT11_MODES, "motion", "pressure", "fleet", "demo")
LAYOUTS = ("esp32", "rpi", "mixed")
FIRMWARE = "1.2.0"
# demo: the events come roughly this often (each period varies by up to ±JITTER of itself).
JITTER = 0.1


def _now() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")


def _err(message: str) -> None:
    print(f"{_now()} {message}", file=sys.stderr, flush=True)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class Simulator:
    """A paho client running its network loop in a thread; publishing blocks until acked."""

    def __init__(
        self, args: argparse.Namespace, *, announce_status: bool, client_prefix: str = "dht11"
    ) -> None:
        self.args = args
        self.announce_status = announce_status
        # (topic, payload) published retained at a clean stop, before the DHT11 status.
        self.farewells: list[tuple[str, dict[str, Any]]] = []
        self._connected = threading.Event()
        self._connack: ReasonCode | None = None
        self._ever_connected = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{client_prefix}-simulator-{os.getpid()}",
            protocol=MQTTProtocolVersion.MQTTv311,
        )
        if args.username:
            self.client.username_pw_set(args.username, args.password)
        if announce_status:
            self.client.will_set(
                args.status_topic, json.dumps({"status": "offline"}), qos=args.qos, retain=True
            )
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        self._connack = reason_code
        if reason_code.is_failure:
            _err(f"broker refused the connection: {reason_code}")
        elif self._ever_connected:
            _err("reconnected to the broker")
        self._ever_connected = self._ever_connected or not reason_code.is_failure
        self._connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.value != 0:
            _err(f"disconnected from the broker ({reason_code}); paho reconnects by itself")

    def connect(self) -> bool:
        args = self.args
        try:
            self.client.connect(args.host, args.port, keepalive=60)
        except OSError as err:
            _err(f"cannot connect to {args.host}:{args.port}: {err}")
            return False
        self.client.loop_start()
        if not self._connected.wait(CONNECT_TIMEOUT):
            _err(f"no answer (CONNACK) from {args.host}:{args.port} within {CONNECT_TIMEOUT:.0f} s")
            return False
        if self._connack is None or self._connack.is_failure:
            return False
        print(
            f"{_now()} connected to {args.host}:{args.port}"
            + (f" as {args.username}" if args.username else ""),
            flush=True,
        )
        if self.announce_status:
            self.publish(args.status_topic, {"status": "online"}, retain=True)
        return True

    def publish(self, topic: str, payload: dict[str, Any], *, retain: bool = False) -> bool:
        text = json.dumps(payload)
        info = self.client.publish(topic, text, qos=self.args.qos, retain=retain)
        ok = False
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN:
            outcome = "queued, broker not connected"
        else:
            try:
                info.wait_for_publish(timeout=PUBLISH_TIMEOUT)
            except (RuntimeError, ValueError) as err:
                outcome = f"FAILED: {err}"
            else:
                ok = info.is_published()
                outcome = "ok" if ok else f"not acknowledged within {PUBLISH_TIMEOUT:.0f} s"
        flags = f"qos {self.args.qos}" + (", retained" if retain else "")
        print(f"{_now()} {topic} {text} [{flags}, {outcome}]", flush=True)
        return ok

    def close(self) -> None:
        if self.client.is_connected():
            for topic, payload in self.farewells:
                self.publish(topic, payload, retain=True)
        if self.announce_status and self.client.is_connected():
            self.publish(self.args.status_topic, {"status": "offline"}, retain=True)
        self.client.disconnect()
        self.client.loop_stop()


def continuous_readings(args: argparse.Namespace) -> Iterator[tuple[float, float]]:
    """Yield a slow, mean-reverting random walk around 22 °C / 55 %."""
    temp = args.temp if args.temp is not None else round(random.uniform(21.0, 23.5), 1)
    hum = args.hum if args.hum is not None else random.uniform(50.0, 60.0)
    n = 0
    while args.count == 0 or n < args.count:
        yield round(temp, 1), round(hum)
        n += 1
        temp += random.gauss(0.0, 0.15) + 0.05 * (22.0 - temp)
        temp = min(max(temp, 15.0), 30.0)
        hum += random.gauss(0.0, 0.8) + 0.05 * (55.0 - hum)
        hum = min(max(hum, 30.0), 80.0)


COLD = 3.0
WARM = 22.0
DEMO_START = 8.0


def demo_dht11_readings(args: argparse.Namespace) -> Iterator[tuple[float, float]]:
    """Yield cold spells forever: down to 3 °C, held, back up to 22 °C, held (demo)."""
    temp = args.temp if args.temp is not None else DEMO_START
    hum = args.hum if args.hum is not None else random.uniform(50.0, 60.0)
    while True:
        while temp > COLD:
            yield round(temp, 1), round(hum)
            temp = max(COLD, temp - DROP_STEP)
        for _ in range(args.cold_readings):
            yield round(COLD + random.uniform(-0.3, 0.3), 1), round(hum)
        while temp < WARM:
            temp = min(WARM, temp + DROP_STEP)
            yield round(temp, 1), round(hum)
        for _ in range(args.warm_readings):
            yield round(WARM + random.uniform(-0.3, 0.3), 1), round(hum)


def drop_readings(args: argparse.Namespace) -> Iterator[tuple[float, float]]:
    """Yield ~20 °C, then 1 °C less per reading, until one is below TEMP_MIN."""
    start = args.temp if args.temp is not None else DROP_START + random.uniform(-0.4, 0.4)
    hum = args.hum if args.hum is not None else random.uniform(50.0, 60.0)
    n = 0
    temp = start
    while args.count == 0 or n < args.count:
        yield round(temp, 1), round(hum)
        n += 1
        if temp < TEMP_MIN:
            return
        temp -= DROP_STEP
        hum = min(max(hum + random.gauss(0.0, 0.5), 30.0), 80.0)


# --- event envelopes: PIR motion sensors and pressure mats -------------------------------------


def _envelope(
    args: argparse.Namespace, source: str, kind: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "device_id": args.device,
        "source": source,
        "type": kind,
        "data": data,
        "timestamp": time.time(),
    }


def motion_event(args: argparse.Namespace, *, presence: bool) -> dict[str, Any]:
    """A PIR motion envelope, as the user's Raspberry Pi sends it on GPIO 17."""
    data = {"presence": presence, "gpio_pin": 17}
    return _envelope(args, "sensor-motion", "MOTION_DETECTED", data)


def pressure_event(args: argparse.Namespace) -> dict[str, Any]:
    """A pressure-mat envelope."""
    data = {"pressure": "high", "duration_ms": 500}
    return _envelope(args, "sensor-pressure", "PRESSURE_DETECTED", data)


# --- IoT platform topics: the ESP32 / Raspberry Pi fleet ---------------------------------------


def _uptime_start() -> float:
    """When a board booted: a while before the simulator started."""
    return time.monotonic() - random.uniform(5.0, 3600.0)


@dataclass(slots=True)
class FleetDevice:
    """One ESP32 or Raspberry Pi board: its id, its payload layout and slowly drifting values."""

    device_id: str
    layout: str  # "esp32" (flat, millis() timestamp) or "rpi" (nested, epoch seconds)
    temp: float = field(default_factory=lambda: random.uniform(20.0, 26.0))
    hum: float = field(default_factory=lambda: random.uniform(40.0, 65.0))
    boot: float = field(default_factory=_uptime_start)
    center: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        self.center = (self.temp, self.hum)

    def data_topic(self, base: str) -> str:
        return f"{base}/sensors/{self.device_id}/data"

    def status_topic(self, base: str) -> str:
        return f"{base}/devices/{self.device_id}/status"

    def status(self, *, online: bool = True) -> dict[str, Any]:
        if not online:
            return {"status": "offline"}
        return {
            "status": "online",
            "battery": random.randint(60, 100),
            "rssi": random.randint(-80, -40),
            "firmware": FIRMWARE,
        }

    def reading(self) -> dict[str, Any]:
        """The next reading in the board's layout; the values drift afterwards."""
        temp, hum = round(self.temp, 1), round(self.hum, 1)
        self.temp += random.gauss(0.0, 0.15) + 0.05 * (self.center[0] - self.temp)
        self.temp = min(max(self.temp, 10.0), 35.0)
        self.hum += random.gauss(0.0, 0.8) + 0.05 * (self.center[1] - self.hum)
        self.hum = min(max(self.hum, 20.0), 90.0)
        if self.layout == "esp32":
            # The ESP32 sketch sends millis(): milliseconds since the board booted.
            millis = int((time.monotonic() - self.boot) * 1000)
            return {
                "device_id": self.device_id,
                "temperature": temp,
                "humidity": hum,
                "timestamp": millis,
            }
        return {
            "device_id": self.device_id,
            "sensors": {"temperature": temp, "humidity": hum},
            "timestamp": int(time.time()),
        }


def make_fleet(devices: int, layout: str) -> list[FleetDevice]:
    """ESP32_001.. then RPI_001..; mixed: the first half (rounded up) are ESP32."""
    esp32 = {"esp32": devices, "rpi": 0}.get(layout, math.ceil(devices / 2))
    return [FleetDevice(f"ESP32_{i:03d}", "esp32") for i in range(1, esp32 + 1)] + [
        FleetDevice(f"RPI_{i:03d}", "rpi") for i in range(1, devices - esp32 + 1)
    ]


# --- scheduling -------------------------------------------------------------------------------

# A job runs at its due time and returns when it wants to run again (None: never).
type Job = Callable[[float], float | None]


class Schedule:
    """Jobs due at monotonic times, run in order on this thread.

    Background jobs (the demo's events) do not keep the schedule alive: it ends when only
    they are left.
    """

    def __init__(self) -> None:
        self._jobs: list[tuple[float, int, Job, bool]] = []
        self._seq = 0

    def at(self, due: float, job: Job, *, background: bool = False) -> None:
        heapq.heappush(self._jobs, (due, self._seq, job, background))
        self._seq += 1

    def run(self) -> None:
        while any(not background for *_, background in self._jobs):
            due, _, job, background = heapq.heappop(self._jobs)
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            again = job(due)
            if again is not None:
                self.at(again, job, background=background)


def _jittered(period: float) -> float:
    return period * random.uniform(1.0 - JITTER, 1.0 + JITTER)


class Runner:
    """The motion, pressure, fleet and demo modes on one connection."""

    def __init__(self, args: argparse.Namespace, sim: Simulator) -> None:
        self.args = args
        self.sim = sim
        self.failures = 0
        self.schedule = Schedule()
        self.fleet: list[FleetDevice] = []
        self.dht11: Iterator[tuple[float, float]] | None = None

    def publish(self, topic: str, payload: dict[str, Any], *, retain: bool = False) -> None:
        if not self.sim.publish(topic, payload, retain=retain):
            self.failures += 1

    def _counted(self, job: Callable[[], None], period: float) -> Job:
        """Run `job` --count times (0: forever), every `period` seconds."""
        done = 0

        def run(due: float) -> float | None:
            nonlocal done
            job()
            done += 1
            return None if 0 < self.args.count <= done else due + period

        return run

    # -- events

    def motion(self) -> None:
        args = self.args
        self.publish(f"{args.events_base}/motion", motion_event(args, presence=True))
        if args.clear_after is not None:
            self.schedule.at(time.monotonic() + args.clear_after, self._clear_motion)

    def _clear_motion(self, due: float) -> None:
        args = self.args
        self.publish(f"{args.events_base}/motion", motion_event(args, presence=False))

    def pressure(self) -> None:
        self.publish(f"{self.args.events_base}/pressure", pressure_event(self.args))

    # -- fleet and DHT11

    def start_fleet(self) -> None:
        base = self.args.iot_base
        self.fleet = make_fleet(self.args.devices, self.args.layout)
        for device in self.fleet:
            self.publish(device.status_topic(base), device.status(), retain=True)
            self.sim.farewells.append((device.status_topic(base), device.status(online=False)))

    def fleet_round(self) -> None:
        for device in self.fleet:
            self.publish(device.data_topic(self.args.iot_base), device.reading())

    def demo_round(self) -> None:
        assert self.dht11 is not None
        temp, hum = next(self.dht11)
        self.publish(self.args.topic, {"temperature": temp, "humidity": int(hum)})
        self.fleet_round()

    # --

    def run(self) -> None:
        args = self.args
        now = time.monotonic()
        if args.mode == "motion":
            self.schedule.at(now, self._counted(self.motion, args.interval))
        elif args.mode == "pressure":
            self.schedule.at(now, self._counted(self.pressure, args.interval))
        elif args.mode == "fleet":
            self.start_fleet()
            self.schedule.at(now, self._counted(self.fleet_round, args.interval))
        else:
            self.dht11 = demo_dht11_readings(args)
            self.start_fleet()
            self.schedule.at(now, self._counted(self.demo_round, args.interval))
            self.schedule.at(now, self._every(self.motion, args.motion_every), background=True)
            self.schedule.at(now, self._every(self.pressure, args.pressure_every), background=True)
        self.schedule.run()

    @staticmethod
    def _every(job: Callable[[], None], period: float) -> Job:
        def run(due: float) -> float:
            job()
            return due + _jittered(period)

        return run


# --- command line -----------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("mode", choices=MODES, metavar="MODE", help=" | ".join(MODES))
    parser.add_argument("--host", default="127.0.0.1", help="broker host (default %(default)s)")
    parser.add_argument("--port", type=int, default=1883, help="broker port (default %(default)s)")
    parser.add_argument("--username", help="broker user name")
    parser.add_argument("--password", help="broker password")
    parser.add_argument(
        "--dht11-base", default="dht11", help="DHT11 base topic (default %(default)s)"
    )
    parser.add_argument(
        "--events-base", default="sensor", help="event base topic (default %(default)s)"
    )
    parser.add_argument(
        "--iot-base", default="iot", help="IoT platform (fleet) base topic (default %(default)s)"
    )
    parser.add_argument("--topic", help="DHT11 readings topic (default <dht11-base>/sensor/data)")
    parser.add_argument("--status-topic", help="DHT11 status topic (default <dht11-base>/status)")
    parser.add_argument(
        "--qos",
        type=int,
        choices=[0, 1, 2],
        default=1,
        help="QoS of every message (default %(default)s)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=10.0,
        help="seconds between readings, events or rounds (default %(default)s)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=0,
        help="number of readings / events / rounds, 0 = forever (drop: until below 5 °C)",
    )
    parser.add_argument(
        "--temp", type=float, help="single: the temperature; continuous/drop/demo: the starting one"
    )
    parser.add_argument(
        "--hum", type=float, help="single: the humidity; continuous/drop/demo: the starting one"
    )
    parser.add_argument(
        "--device",
        default="raspberry-1",
        help="device_id of the motion and pressure events (default %(default)s)",
    )
    parser.add_argument(
        "--clear-after",
        type=float,
        metavar="S",
        help="motion/demo: S seconds after each detection, send it again with presence false",
    )
    parser.add_argument(
        "--devices", type=int, default=5, help="fleet/demo: number of boards (default %(default)s)"
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="mixed",
        help="fleet/demo: esp32 | rpi | mixed (default %(default)s: first half ESP32)",
    )
    parser.add_argument(
        "--cold-readings",
        type=int,
        default=30,
        help="demo: readings held at 3 °C per cold spell (default %(default)s)",
    )
    parser.add_argument(
        "--warm-readings",
        type=int,
        default=120,
        help="demo: readings held at 22 °C between cold spells (default %(default)s)",
    )
    parser.add_argument(
        "--motion-every",
        type=float,
        default=30.0,
        help="demo: about this many seconds between motion events (default %(default)s)",
    )
    parser.add_argument(
        "--pressure-every",
        type=float,
        default=45.0,
        help="demo: about this many seconds between pressure events (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.mode == "single" and (args.temp is None or args.hum is None):
        parser.error("single needs --temp T and --hum H")
    if args.interval < 0 or args.count < 0:
        parser.error("--interval and --count must not be negative")
    if not 0 < args.port < 65536:
        parser.error("--port must be 1..65535")
    if args.password and not args.username:
        parser.error("--password needs --username")
    for option in ("dht11_base", "events_base", "iot_base"):
        if not valid_base(getattr(args, option)):
            parser.error(f"--{option.replace('_', '-')} must be a topic without + # or empty level")
    if not args.device or any(char in "/+#" for char in args.device) or len(args.device) > 64:
        parser.error("--device must be 1..64 characters without / + #")
    if not 1 <= args.devices <= 999:
        parser.error("--devices must be 1..999")
    if args.motion_every <= 0 or args.pressure_every <= 0:
        parser.error("--motion-every and --pressure-every must be positive")
    if args.clear_after is not None:
        if args.clear_after <= 0:
            parser.error("--clear-after must be positive")
        period = {"motion": args.interval, "demo": args.motion_every * (1 - JITTER)}
        if args.mode in period and args.count != 1 and args.clear_after >= period[args.mode]:
            parser.error("--clear-after must be shorter than the time between motion events")
    args.topic = args.topic or f"{args.dht11_base}/sensor/data"
    args.status_topic = args.status_topic or f"{args.dht11_base}/status"
    return args


def _run_dht11(args: argparse.Namespace, sim: Simulator) -> int:
    """continuous, drop and single: the DHT11 topics alone."""
    if args.mode == "single":
        ok = sim.publish(args.topic, {"temperature": args.temp, "humidity": _number(args.hum)})
        return 0 if ok else 1
    readings = continuous_readings(args) if args.mode == "continuous" else drop_readings(args)
    first = True
    last_temp = None
    for temp, hum in readings:
        if not first:
            time.sleep(args.interval)
        first = False
        sim.publish(args.topic, {"temperature": temp, "humidity": int(hum)})
        last_temp = temp
    if args.mode == "drop" and last_temp is not None and last_temp < TEMP_MIN:
        print(
            f"{_now()} below {TEMP_MIN:g} °C: IoT Hub's default rule opens a warning incident"
            " once this has lasted its minimum duration (60 s)"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    dht11 = args.mode in DHT11_MODES
    sim = Simulator(
        args,
        announce_status=args.mode not in {"single", "motion", "pressure", "fleet"},
        client_prefix="dht11" if dht11 else "iot",
    )
    runner = Runner(args, sim)
    try:
        if not sim.connect():
            return 1
        if dht11:
            return _run_dht11(args, sim)
        runner.run()
        return 1 if runner.failures else 0
    except KeyboardInterrupt:
        print(f"{_now()} stopping", flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with contextlib.suppress(KeyboardInterrupt):
            sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
