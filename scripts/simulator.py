"""DHT11 simulator: publishes temperature/humidity readings like the user's DHT11 system.

Reproduces the simulator of the user's Django project (seed 000): readings go to
``dht11/sensor/data`` as ``{"temperature": 22.4, "humidity": 55}`` and the device status to
``dht11/status`` as ``{"status": "online"}`` (retained).

Modes:
  continuous  a realistic reading every --interval seconds, drifting slowly (--count 0 = forever)
  drop        the slow temperature drop of the seed: from about 20 °C down 1 °C per interval
              until the reading is below 5 °C (the user's MQTT_TEMP_MIN), so a threshold
              incident fires
  single      one reading (--temp T --hum H), then exit

Examples:
  .venv/bin/python scripts/simulator.py continuous --interval 5
  .venv/bin/python scripts/simulator.py --port 1884 --username iot --password iot drop
  .venv/bin/python scripts/simulator.py single --temp 3 --hum 60
"""

import argparse
from collections.abc import Iterator
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

TEMP_MIN = 5.0  # the seed's MQTT_TEMP_MIN: below it the user's system opens an incident
DROP_START = 20.0
DROP_STEP = 1.0
CONNECT_TIMEOUT = 10.0
PUBLISH_TIMEOUT = 10.0


def _now() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")


def _err(message: str) -> None:
    print(f"{_now()} {message}", file=sys.stderr, flush=True)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


class Simulator:
    """A paho client running its network loop in a thread; publishing blocks until acked."""

    def __init__(self, args: argparse.Namespace, *, announce_status: bool) -> None:
        self.args = args
        self.announce_status = announce_status
        self._connected = threading.Event()
        self._connack: ReasonCode | None = None
        self._ever_connected = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"dht11-simulator-{os.getpid()}",
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


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "mode",
        choices=["continuous", "drop", "single"],
        metavar="MODE",
        help="continuous | drop | single",
    )
    parser.add_argument("--host", default="127.0.0.1", help="broker host (default %(default)s)")
    parser.add_argument("--port", type=int, default=1883, help="broker port (default %(default)s)")
    parser.add_argument("--username", help="broker user name")
    parser.add_argument("--password", help="broker password")
    parser.add_argument(
        "--topic", default="dht11/sensor/data", help="readings topic (default %(default)s)"
    )
    parser.add_argument(
        "--status-topic", default="dht11/status", help="status topic (default %(default)s)"
    )
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
        help="seconds between readings (default %(default)s)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=0,
        help="number of readings, 0 = forever / until below 5 °C for drop",
    )
    parser.add_argument(
        "--temp", type=float, help="single: the temperature; continuous/drop: the starting one"
    )
    parser.add_argument(
        "--hum", type=float, help="single: the humidity; continuous/drop: the starting one"
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
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    sim = Simulator(args, announce_status=args.mode != "single")
    try:
        if not sim.connect():
            return 1
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
            print(f"{_now()} below {TEMP_MIN:g} °C: a low-temperature incident should fire")
    except KeyboardInterrupt:
        print(f"{_now()} stopping", flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with contextlib.suppress(KeyboardInterrupt):
            sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
