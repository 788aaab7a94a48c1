"""HA's built-in MQTT integration (A) against IoT Hub (B): same broker, same stream, one run.

    .venv/bin/python benchmarks/run.py [--devices 1000] [--rates auto|R1,R2,...]
        [--duration 20] [--protocol 3.1.1|5] [--order AB|BA|ABBA|A|B] [--quick]

Each side is a fresh ``hass`` (own config dir, pinned to --hass-core) with a fresh
mosquitto; the load generator (pre-encoded QoS 0 PUBLISH packets on a raw socket)
and the broker share --aux-core. benchmarks/README.md describes what is measured
and how; results go to benchmarks/results/latest.json, and the last line printed is
``RESULT throughput_ratio=<x> p99_ratio=<y> devices_ready_s=<z>``.
"""

import argparse
from collections import Counter
from collections.abc import Callable
import contextlib
from datetime import UTC, datetime
import hashlib
import importlib.metadata
import io
import json
import math
import os
from pathlib import Path
import platform
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from types import FrameType
from typing import Any

import analysis
import harness
from harness import Processes, dev_ha, log
import stream

SIDE_NAMES = {"A": "HA MQTT", "B": "IoT Hub"}
IOT_HUB_SRC = harness.ROOT / "custom_components" / "iot_hub"
FAMILIES = IOT_HUB_SRC / "broker" / "options.py"
RESULTS = harness.BENCH / "results"
P99_LIMIT_MS = 1000.0
# A backlog that grows delays every message: the fastest tenth of the last fifth of sends
# may be at most this much slower than that of the first fifth. (A garbage-collection
# pause delays only what arrives during it; with the median, one pause in the last fifth
# looked like a backlog.)
GROWTH_LIMIT_MS = 100.0
MEASURED_PHASES = ("latency", "saturation")
FOREIGN_LIMIT_PCT = 5.0  # warn when others used more of the hass core than this
HELD_RATE = 0.97  # the generator must offer at least this share of the requested rate


class BenchError(Exception):
    """The benchmark could not measure something; the message says what."""


class PhaseTimeout(BenchError):
    """The states did not catch up with the stream within the allowed time."""


# --- settings ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--devices", type=int, help="devices (2 sensors each); default 1000")
    parser.add_argument(
        "--rates",
        default="auto",
        help="offered msgs/s of the sustained-rate ladder, comma separated; 'auto' = fractions"
        " of the saturation throughput each side measured",
    )
    parser.add_argument("--duration", type=float, help="seconds per paced phase; default 20")
    parser.add_argument("--protocol", choices=["3.1.1", "5"], default="3.1.1")
    parser.add_argument(
        "--latency-rate", type=int, help="the common moderate rate for latency; default 1000"
    )
    parser.add_argument("--warmup", type=float, help="seconds of paced warm-up; default 5")
    parser.add_argument(
        "--saturation-rounds",
        type=int,
        help="messages per device in the flat-out saturation burst; default 100",
    )
    parser.add_argument("--order", default="AB", help="sides and order: AB, BA, ABBA, A or B")
    parser.add_argument("--quick", action="store_true", help="smoke run: 100 devices, short phases")
    parser.add_argument("--hass-core", type=int, default=0)
    parser.add_argument("--aux-core", type=int, default=1, help="core of broker and generator")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, cProfile the event loop during one more saturation burst",
    )
    parser.add_argument(
        "--py-spy",
        metavar="PATH",
        help="with --profile: sample with this py-spy binary instead of cProfile",
    )
    parser.add_argument(
        "--floor-rounds",
        type=int,
        default=100,
        help="messages per device of the state-write floor measured at the end (default 100:"
        " long enough to include the full garbage collections it causes)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="measure nothing: print the report of a results file",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "devices": 100 if quick else 1000,
        "duration": 5.0 if quick else 20.0,
        "latency_rate": 500 if quick else 1000,
        "warmup": 2.0 if quick else 5.0,
        "saturation_rounds": 100,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.ladder_fractions = (0.7, 1.0) if quick else (0.7, 0.85, 1.0, 1.1)
    args.ladder_max_steps = 2 if quick else 8
    args.fixed_rates = None
    if args.rates != "auto":
        args.fixed_rates = sorted({int(float(r)) for r in args.rates.split(",") if r.strip()})
    if not args.order or set(args.order) - set(SIDE_NAMES):
        parser.error("--order takes A and B only, e.g. AB or ABBA")
    if args.devices < 1 or args.devices > 9999:
        parser.error("--devices must be 1..9999")
    return args


# --- one side ---------------------------------------------------------------------------------


class Side:
    """One Home Assistant process (A or B) from start to stop."""

    def __init__(self, key: str, run: int, args: argparse.Namespace, workdir: Path) -> None:
        self.key = key
        self.name = SIDE_NAMES[key]
        self.args = args
        self.devices: int = args.devices
        self.dir = workdir / f"{key}{run}"
        self.dir.mkdir(parents=True)
        self.config = self.dir / "config"
        self.procs = Processes()
        self.k_next = 1
        self.mqtt_port = 0
        self.hass: subprocess.Popen[Any] | None = None
        self.api: dev_ha.Api | None = None
        self.result: dict[str, Any] = {"side": key, "name": self.name, "run": run, "phases": {}}

    # -- plumbing

    @property
    def pid(self) -> int:
        assert self.hass is not None
        return self.hass.pid

    def call(self, service: str, data: dict[str, Any]) -> dict[str, Any]:
        assert self.api is not None
        _, answer = self.api.call(
            "POST", f"/api/services/bench_probe/{service}?return_response", data
        )
        response: dict[str, Any] = answer["service_response"]
        return response

    def check_alive(self) -> None:
        if self.hass is not None and self.hass.poll() is not None:
            raise BenchError(
                f"Home Assistant exited with code {self.hass.returncode}"
                f" (see {self.config / 'hass.out'})"
            )

    def wait_file(self, path: Path, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                content: dict[str, Any] = json.loads(path.read_text())
                return content
            self.check_alive()
            time.sleep(0.02)
        return None

    # -- setup

    def start(self) -> None:
        args = self.args
        self.mqtt_port, _ = harness.start_mosquitto(
            self.procs, self.dir / "mosquitto", args.aux_core
        )
        http_port = harness.free_port()
        integrations = [IOT_HUB_SRC] if self.key == "B" else []
        harness.write_hass_config(
            self.config, http_port, integrations, keep_mqtt_protocol=args.protocol != "5"
        )
        if self.key == "B":
            self.result["iot_hub_tree_sha256"] = tree_hash(
                self.config / "custom_components" / "iot_hub"
            )
        log(f"{self.name}: starting hass on core {args.hass_core} (config {self.config})")
        t0 = time.monotonic()
        self.hass = harness.start_hass(self.procs, self.config, args.hass_core)
        self.api = dev_ha.Api(f"http://127.0.0.1:{http_port}")
        dev_ha.wait_http(self.api, 300, self.pid)
        self.result["http_up_s"] = round(time.monotonic() - t0, 2)
        harness.onboard_owner(self.api, self.config / ".dev_token")
        self.wait_probe()
        if self.key == "A":
            self.create_mqtt_entry()
            self.wait_loaded("mqtt")
        else:
            broker = {
                "host": "127.0.0.1",
                "port": self.mqtt_port,
                "transport": "tcp",
                "ws_path": "/mqtt",
                "tls": "off",
                "username": harness.MOSQUITTO_USER,
                "password": harness.MOSQUITTO_PASSWORD,
                "keepalive": 60,
                "protocol": args.protocol,
            }
            dev_ha.ensure_entry(self.api, broker, None)
            self.wait_loaded("iot_hub")
            self.widen_incident_rules()
            self.wait_loaded("iot_hub")
        self.result["entry_loaded_s"] = round(time.monotonic() - t0, 2)
        settle = 1.0 if args.quick else 3.0
        time.sleep(settle)  # let startup work finish before the idle reading
        ticks = harness.cpu_ticks(self.pid)
        time.sleep(settle)
        self.result["idle_cpu_pct"] = round(
            (harness.cpu_ticks(self.pid) - ticks) / harness.CLK_TCK / settle * 100, 1
        )
        self.result["rss_before_devices_mib"] = round(harness.rss_kib(self.pid) / 1024, 1)

    def poll(self, pending: Callable[[], str | None], timeout: float, interval: float) -> None:
        """Call `pending` until it answers None; past `timeout`, fail with its last answer."""
        deadline = time.monotonic() + timeout
        while (missing := pending()) is not None:
            if time.monotonic() > deadline:
                raise BenchError(missing)
            self.check_alive()
            time.sleep(interval)

    def wait_probe(self, timeout: float = 120) -> None:
        """The probe is set up (so is its MQTT protocol pin): its actions answer."""
        api = self.api
        assert api is not None

        def pending() -> str | None:
            status, _ = api.call(
                "POST", "/api/services/bench_probe/status?return_response", {}, ok=(200, 400)
            )
            return None if status == 200 else f"bench_probe not set up after {timeout:.0f} s"

        self.poll(pending, timeout, 0.2)

    def widen_incident_rules(self) -> None:
        """Keep IoT Hub's default rules (evaluated on every reading) but never firing.

        The stream sweeps -40..80 °C and 20..69 %: with the default 5-35 °C rule every
        device would open incidents mid-run, work HA MQTT has no counterpart for. The
        rules still run per reading (their cost is measured); they just never trigger.
        """
        _, entries = self.api.call("GET", "/api/config/config_entries/entry?domain=iot_hub")
        entry_id = entries[0]["entry_id"]
        with dev_ha.WebSocket(self.api) as ws:
            subentries = ws.command("config_entries/subentries/list", entry_id=entry_id)
        for subentry in subentries:
            if subentry.get("subentry_type") != "rule":
                continue
            _, form = self.api.call(
                "POST",
                "/api/config/config_entries/subentries/flow",
                {"handler": [entry_id, "rule"], "subentry_id": subentry["subentry_id"]},
            )
            metric = "temperature" if "emperature" in subentry.get("title", "") else "humidity"
            _, done = self.api.call(
                "POST",
                f"/api/config/config_entries/subentries/flow/{form['flow_id']}",
                {
                    "metric": metric,
                    "warning_min": -100,
                    "warning_max": 200,
                    "hysteresis": 1,
                    "min_duration": 60,
                },
            )
            if done.get("type") != "abort":
                raise BenchError(f"iot_hub rule edit refused: {json.dumps(done)}")
        log(f"{self.name}: incident rules widened (evaluated, never firing)")

    def create_mqtt_entry(self) -> None:
        """HA's own config flow, broker step, protocol pinned to the one IoT Hub uses."""
        assert self.api is not None
        _, result = self.api.call(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": "mqtt", "show_advanced_options": True},
        )
        if result.get("type") != "form" or result.get("step_id") != "broker":
            raise BenchError(f"mqtt flow: expected the broker form, got {json.dumps(result)}")
        path = f"/api/config/config_entries/flow/{result['flow_id']}"
        data = {
            "broker": "127.0.0.1",
            "port": self.mqtt_port,
            "protocol": self.args.protocol,
            "username": harness.MOSQUITTO_USER,
            "password": harness.MOSQUITTO_PASSWORD,
            "other_settings": {
                "keepalive": 60,
                "set_client_cert": False,
                "set_ca_cert": "off",
                "transport": "tcp",
            },
        }
        _, result = self.api.call("POST", path, data, ok=(200, 201, 400))
        if result.get("type") != "create_entry":
            raise BenchError(f"mqtt flow: broker step refused: {json.dumps(result)}")
        self.result["mqtt_entry_data"] = {
            k: v for k, v in result["result"].items() if k in {"title", "domain"}
        }
        log(f"{self.name}: mqtt config entry created (protocol {self.args.protocol})")

    def wait_loaded(self, domain: str, timeout: float = 60) -> None:
        api = self.api
        assert api is not None

        def pending() -> str | None:
            _, entries = api.call("GET", f"/api/config/config_entries/entry?domain={domain}")
            states = [e.get("state") for e in entries if e.get("domain") == domain]
            if states and all(s == "loaded" for s in states):
                return None
            return f"{domain} entry not loaded after {timeout:.0f} s: {states}"

        self.poll(pending, timeout, 0.5)

    def stop(self) -> None:
        if self.hass is not None:
            log(f"{self.name}: stopping hass")
            code = self.procs.stop(self.hass)
            self.result["hass_exit_code"] = code
        self.procs.stop_all()
        self.result["log"] = harness.scan_hass_log(self.config / "home-assistant.log")

    # -- phases

    def phase(
        self,
        name: str,
        *,
        rounds: int,
        rate: float,
        timeout: float,
        retain: bool = False,
        discovery: bool = False,
        analyse: bool = True,
    ) -> dict[str, Any]:
        """Send rounds x devices messages at `rate` (0: flat out); wait until all states show."""
        k0 = self.k_next
        k_last = k0 + rounds - 1
        self.k_next = k_last + 1
        sent_total = rounds * self.devices
        plan = {
            "devices": self.devices,
            "k0": k0,
            "rounds": rounds,
            "rate": rate,
            "retain": retain,
            "discovery": discovery,
        }
        generator = harness.LoadGen(
            self.procs,
            self.dir,
            name,
            plan,
            port=self.mqtt_port,
            protocol=self.args.protocol,
            core=self.args.aux_core,
        )
        marker = self.dir / f"done_{name}.json"
        try:
            generator.ready()
            self.call(
                "arm", {"expect": stream.final_values(self.devices, k_last), "path": str(marker)}
            )
            before = self.call("status", {})
            core0 = harness.core_ticks(self.args.hass_core)
            ticks0 = harness.cpu_ticks(self.pid)
            generator.go()
            done = self.wait_file(marker, timeout)
            ticks1 = harness.cpu_ticks(self.pid)
            core1 = harness.core_ticks(self.args.hass_core)
            rss = harness.rss_kib(self.pid)
            sent = generator.wait(timeout=120)
        except BaseException:
            generator.abort()
            raise
        dump_path = self.dir / f"states_{name}.json"
        counters = self.call("dump", {"path": str(dump_path)})
        if done is None:
            raise PhaseTimeout(
                f"{name}: states not caught up {timeout:.0f} s after the start"
                f" ({counters['pending']} entities behind, e.g. {counters['pending_sample']})"
            )
        dump = json.loads(dump_path.read_text())
        records = dump["records"]
        if not self.args.keep:
            dump_path.unlink()
        first_ns, last_ns = sent["first_ns"], sent["last_ns"]
        wall_s = (done["done_ns"] - first_ns) / 1e9
        cpu_s = (ticks1 - ticks0) / harness.CLK_TCK
        send_s = (last_ns - first_ns) / 1e9
        out: dict[str, Any] = {
            "name": name,
            "requested_rate": rate,
            "messages": sent_total,
            "k0": k0,
            "rounds": rounds,
            "offered_rate": round((sent_total - 1) / send_s, 1) if send_s > 0 else None,
            "send_s": round(send_s, 3),
            "wall_s": round(wall_s, 3),
            "delivered_rate": round(sent_total / wall_s, 1),
            "cpu_s": round(cpu_s, 2),
            "cpu_s_per_10k": round(cpu_s / sent_total * 1e4, 3),
            "cpu_util_pct": round(cpu_s / wall_s * 100, 1),
            "rss_mib": round(rss / 1024, 1),
            # Others' work on the hass core during the window (another process, the hypervisor).
            "hass_core_foreign_pct": round(
                max(0, core1[0] - core0[0] - (ticks1 - ticks0)) / max(1, core1[3] - core0[3]) * 100,
                1,
            ),
            "hass_core_irq_pct": round(
                (core1[1] - core0[1]) / max(1, core1[3] - core0[3]) * 100, 1
            ),
            "hass_core_steal_pct": round(
                (core1[2] - core0[2]) / max(1, core1[3] - core0[3]) * 100, 1
            ),
            "writes_measured": analysis.count_writes(records),
            "state_reported": counters["reported"],
            "state_changed_all": counters["all_changed"],
            "gc_collections": [
                b - a
                for a, b in zip(before["gc_collections"], counters["gc_collections"], strict=True)
            ],
            # Includes collections in other threads (executor), which rarely allocate here.
            "gc_s": [
                round((b - a) / 1e9, 3)
                for a, b in zip(before["gc_ns"], counters["gc_ns"], strict=True)
            ],
            "gc_max_ms": [round(ns / 1e6, 1) for ns in counters["gc_max_ns"]],
        }
        out["writes_per_msg"] = round(
            (out["writes_measured"] + out["state_reported"]) / sent_total, 3
        )
        out["all_state_changes_per_msg"] = round(out["state_changed_all"] / sent_total, 3)
        if analyse and not discovery:
            times = analysis.send_times(sent, sent_total)
            matched = analysis.match_temperatures(records, self.devices, k0, rounds, times)
            out["latency"] = analysis.latency_summary(matched.samples)
            out["matched"] = len(matched.samples)
            out["unmatched_states"] = matched.unmatched
            out["skipped_messages"] = matched.skipped
            out["missing_messages"] = matched.missing
        if rate > 0:
            out["held_rate"] = out["offered_rate"] is not None and (
                out["offered_rate"] >= HELD_RATE * rate
            )
        self.result["phases"][name] = out
        return out

    def verify_entities(self) -> None:
        """Exactly 2 x devices measured entities, all numeric."""
        assert self.api is not None
        _, states = self.api.call("GET", "/api/states")
        wanted = {stream.entity_id(d, key) for d in range(self.devices) for key in stream.KEYS}
        found = {s["entity_id"]: s["state"] for s in states if s["entity_id"] in wanted}
        numeric = sum(1 for v in found.values() if dev_ha.numeric({"state": v}) is not None)
        others = sorted(
            s["entity_id"]
            for s in states
            if s["entity_id"].startswith(stream.ENTITY_PREFIX) and s["entity_id"] not in wanted
        )
        self.result["entities"] = {
            "measured": len(found),
            "measured_numeric": numeric,
            "other_sensor_dev_entities": len(others),
            "all_entities": len(states),
        }
        if len(found) != len(wanted) or numeric != len(wanted):
            raise BenchError(
                f"{self.name}: {len(found)} of {len(wanted)} entities exist, {numeric} numeric;"
                f" unexpected ones: {others[:5]}"
            )
        log(
            f"{self.name}: {len(found)} entities exist and are numeric"
            f" ({len(states)} states in all)"
        )

    def verify_protocol(self) -> None:
        """The consumer's MQTT connection (the last one not ours) uses --protocol."""
        clients = harness.broker_clients(self.dir / "mosquitto")
        consumers = [c for c in clients if not c[0].startswith("bench-loadgen")]
        self.result["broker_connections"] = consumers
        if not consumers or consumers[-1][1] != self.args.protocol:
            raise BenchError(
                f"{self.name}: the consumer is not on MQTT {self.args.protocol}: {consumers}"
            )
        log(f"{self.name}: consumer connected with MQTT {consumers[-1][1]} (broker log)")

    def bring_up(self) -> None:
        args = self.args
        log(
            f"{self.name}: bringing up {self.devices} devices"
            + (" (retained discovery + first reading)" if self.key == "A" else " (first reading)")
        )
        timeout = 60 + self.devices * 0.25
        out = self.phase(
            "bring_up",
            rounds=1,
            rate=0,
            timeout=timeout,
            retain=True,
            discovery=self.key == "A",
            analyse=False,
        )
        self.result["devices_ready_s"] = out["wall_s"]
        self.result["rss_after_devices_mib"] = out["rss_mib"]
        log(f"{self.name}: all {2 * self.devices} entities numeric after {out['wall_s']:.2f} s")
        self.verify_entities()
        self.verify_protocol()
        log(f"{self.name}: warm-up ({args.warmup:.0f} s at {args.latency_rate} msgs/s)")
        self.phase("confirm", rounds=1, rate=0, timeout=60, analyse=False)
        self.phase(
            "warmup",
            rounds=self.rounds(args.latency_rate, args.warmup),
            rate=args.latency_rate,
            timeout=args.warmup + 60,
            analyse=False,
        )

    def rounds(self, rate: float, seconds: float) -> int:
        return max(1, round(rate * seconds / self.devices))

    def paced(self, name: str, rate: int) -> dict[str, Any]:
        args = self.args
        rounds = self.rounds(rate, args.duration)
        out = self.phase(name, rounds=rounds, rate=rate, timeout=args.duration * 1.5 + 60)
        lat = out["latency"]
        growth = lat["p10_last_fifth_ms"] - lat["p10_first_fifth_ms"]
        reasons = []
        if not out["held_rate"]:
            reasons.append(f"generator offered only {out['offered_rate']:.0f}")
        if not lat["p99_ms"] < P99_LIMIT_MS:
            reasons.append(f"p99 {lat['p99_ms']:.0f} ms")
        if growth > GROWTH_LIMIT_MS:
            reasons.append(f"backlog grows (fastest tenth +{growth:.0f} ms)")
        if out["missing_messages"] or out["skipped_messages"]:
            reasons.append(
                f"{out['missing_messages'] + out['skipped_messages']} messages without a state"
            )
        out["p10_growth_ms"] = round(growth, 1)
        out["sustained"] = not reasons
        out["verdict"] = "ok" if not reasons else "; ".join(reasons)
        log(
            f"{self.name}: {name}: offered {out['offered_rate']:.0f}/s, delivered"
            f" {out['delivered_rate']:.0f}/s, p50 {lat['p50_ms']:.1f} ms,"
            f" p99 {lat['p99_ms']:.1f} ms,"
            f" {out['cpu_s_per_10k']:.2f} CPU s/10k, {out['writes_per_msg']:.2f} writes/msg"
            f" (hass core: others {out['hass_core_foreign_pct']:.0f} %,"
            f" irq {out['hass_core_irq_pct']:.0f} %, steal {out['hass_core_steal_pct']:.0f} %)"
            f" -> {out['verdict']}"
        )
        return out

    def measure(self) -> None:
        args = self.args
        lat = self.paced("latency", args.latency_rate)
        log(
            f"{self.name}: saturation burst ({args.saturation_rounds * self.devices} msgs flat out)"
        )
        sat = self.phase(
            "saturation",
            rounds=args.saturation_rounds,
            rate=0,
            timeout=args.saturation_rounds * self.devices / 300 + 60,
        )
        capacity = sat["delivered_rate"]
        log(
            f"{self.name}: saturation: delivered {capacity:.0f} msgs/s"
            f" (offered {sat['offered_rate']:.0f}/s), {sat['cpu_s_per_10k']:.2f} CPU s/10k,"
            f" {sat['cpu_util_pct']:.0f} % of a core"
            f" (hass core: others {sat['hass_core_foreign_pct']:.0f} %,"
            f" irq {sat['hass_core_irq_pct']:.0f} %, steal {sat['hass_core_steal_pct']:.0f} %)"
        )
        if args.fixed_rates:
            rates = args.fixed_rates
        else:
            rates = sorted({max(100, int(round(f * capacity, -2))) for f in args.ladder_fractions})
        self.result["ladder_rates"] = rates
        best = args.latency_rate if lat["sustained"] else 0
        failed: int | None = None
        queue = list(rates)
        steps = 0
        while queue and steps < args.ladder_max_steps:
            rate = queue.pop(0)
            steps += 1
            if not self.ladder_step(rate):
                failed = rate
                break
            best = max(best, rate)
            if not queue and not args.fixed_rates:
                queue.append(int(round(rate * 1.1, -2)))  # held the top: keep climbing
        # One bisection step between the last rate held and the first one missed.
        stopped = "ladder_stopped" in self.result
        if failed is not None and not args.fixed_rates and best and not stopped:
            middle = int(round((best + failed) / 2, -2))
            if best < middle < failed and self.ladder_step(middle):
                best = middle
        self.result["sustained_msgs_s"] = best
        self.result["saturation_msgs_s"] = capacity

    def ladder_step(self, rate: int) -> bool:
        """Whether the side sustains `rate` (False also when it never caught up)."""
        try:
            out = self.paced(f"rate_{rate}", rate)
        except PhaseTimeout as err:
            log(f"{self.name}: {err}; stopping the ladder")
            self.result["ladder_stopped"] = str(err)
            return False
        if not out["held_rate"]:
            self.result["generator_bound"] = True
        sustained: bool = out["sustained"]
        return sustained

    def profile(self) -> None:
        """cProfile of the loop during one more saturation burst (not part of the numbers)."""
        args = self.args
        rounds = args.saturation_rounds
        seconds = max(3.0, rounds * self.devices / max(self.result["saturation_msgs_s"], 1))
        target = RESULTS / f"profile_{self.key}.txt"
        if args.py_spy:
            # Sampling from outside (on the aux core): no overhead inside hass.
            raw = self.dir / "py-spy.txt"
            argv = [args.py_spy, "record", "--format", "raw", "-F", "-r", "200"]
            argv += ["-d", str(math.ceil(seconds)), "-p", str(self.pid), "-o", str(raw)]
            spy = self.procs.start("py-spy", argv, core=args.aux_core, stop_timeout=30)
            time.sleep(1)  # py-spy attaches
            self.phase("profiled", rounds=rounds, rate=0, timeout=seconds + 120, analyse=False)
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(seconds + 30)
            self.procs.stop(spy)
            text = spy_summary(raw) if raw.exists() else "py-spy wrote nothing\n"
        else:
            stats_path = self.dir / "profile.pstats"
            self.call("profile", {"seconds": seconds, "path": str(stats_path)})
            self.phase("profiled", rounds=rounds, rate=0, timeout=seconds + 120, analyse=False)
            deadline = time.monotonic() + seconds + 30
            while not stats_path.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            if not stats_path.exists():
                return
            package = "custom_components/iot_hub" if self.key == "B" else "components/mqtt/"
            text = profile_summary(stats_path, package)
        target.write_text(text)
        self.result["profile"] = str(target.relative_to(harness.ROOT))
        print(text)

    def floor(self) -> None:
        """Msgs/s of the two state writes alone, in this process (not part of the ratios)."""
        messages = self.args.floor_rounds * self.devices
        for mode in ("entities", "states"):
            out = self.call("floor", {"mode": mode, "messages": messages})
            if "error" in out:
                raise BenchError(f"floor ({mode}): {out['error']}")
            self.result[f"floor_{mode}"] = out
            log(
                f"{self.name}: floor ({mode}): {out['msgs_per_s']:.0f} msgs/s with only the two"
                f" state writes per message ({out['gc_s']:.2f} s of {out['wall_s']:.2f} s in GC;"
                f" young objects {out.get('young_objects')})"
            )

    def run(self) -> dict[str, Any]:
        try:
            self.start()
            self.bring_up()
            self.measure()
            if self.args.profile:
                self.profile()
            self.floor()
        except (BenchError, dev_ha.DevError) as err:
            log(f"{self.name}: FAILED: {err}")
            self.result["error"] = str(err)
        except Exception as err:
            traceback.print_exc()
            log(f"{self.name}: FAILED: {err!r}")
            self.result["error"] = repr(err)
        finally:
            self.stop()
        return self.result


def profile_summary(path: Path, package: str, top: int = 25) -> str:
    """Top functions by own time and by cumulative time, then the integration's own ones."""
    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("cumulative").print_stats(package, top)
    lines = [line.replace(str(harness.ROOT), ".") for line in buffer.getvalue().splitlines()]
    return "\n".join(lines) + "\n"


def spy_summary(path: Path, top: int = 30) -> str:
    """py-spy raw (collapsed) stacks: the most frequent functions, own and inclusive."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        if "BaseEventLoop._run_once" not in stack:
            continue  # only the event loop thread (executor threads wait on a queue)
        frames = [f.replace(str(harness.ROOT), ".") for f in stack.split(";")]
        frames = [f.replace("/.venv/lib/python3.14/site-packages/", "/") for f in frames]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    total = max(total, 1)
    lines = [f"py-spy: {total} samples of the busy event loop thread (200 Hz)", "", "own time:"]
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {100 * n / total:5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


def finite(value: Any) -> Any:
    """NaN (a missing number) as null, so the JSON stays strict."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def tree_hash(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


# --- summary ----------------------------------------------------------------------------------


METRICS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "sustained_msgs_s": lambda r: r["sustained_msgs_s"],
    "saturation_msgs_s": lambda r: r["saturation_msgs_s"],
    "p50_ms": lambda r: r["phases"]["latency"]["latency"]["p50_ms"],
    "p99_ms": lambda r: r["phases"]["latency"]["latency"]["p99_ms"],
    "p999_ms": lambda r: r["phases"]["latency"]["latency"]["p999_ms"],
    "cpu_s_per_10k_at_latency_rate": lambda r: r["phases"]["latency"]["cpu_s_per_10k"],
    "cpu_s_per_10k_saturated": lambda r: r["phases"]["saturation"]["cpu_s_per_10k"],
    "writes_per_msg": lambda r: r["phases"]["latency"]["writes_per_msg"],
    "all_state_changes_per_msg": lambda r: r["phases"]["latency"]["all_state_changes_per_msg"],
    "devices_ready_s": lambda r: r["devices_ready_s"],
    "rss_before_devices_mib": lambda r: r["rss_before_devices_mib"],
    "rss_after_devices_mib": lambda r: r["rss_after_devices_mib"],
    "idle_cpu_pct": lambda r: r["idle_cpu_pct"],
    "floor_entities_msgs_s": lambda r: r["floor_entities"]["msgs_per_s"],
    "floor_states_msgs_s": lambda r: r["floor_states"]["msgs_per_s"],
}


def side_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over the runs of one side (ABBA gives two), and [min, max] under "range"."""
    good = [r for r in runs if "error" not in r]
    summary: dict[str, Any] = {"runs": len(runs), "failed_runs": len(runs) - len(good)}
    ranges: dict[str, list[float]] = {}
    for name, getter in METRICS.items():
        values = []
        for run in good:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                values.append(float(getter(run)))
        summary[name] = analysis.median(values)
        ranges[name] = [min(values), max(values)] if values else [math.nan, math.nan]
    summary["range"] = ranges
    summary["max_foreign_pct_on_hass_core"] = max(
        (
            p.get("hass_core_foreign_pct", 0) + p.get("hass_core_steal_pct", 0)
            for r in good
            for name, p in r["phases"].items()
            if name in MEASURED_PHASES or name.startswith("rate_")
        ),
        default=math.nan,
    )
    return summary


ROWS = (
    ("sustained msgs/s (p99 < 1 s, no backlog)", "sustained_msgs_s", "{:.0f}"),
    ("saturation msgs/s (flat-out burst)", "saturation_msgs_s", "{:.0f}"),
    ("p50 latency ms @ {rate}/s", "p50_ms", "{:.1f}"),
    ("p99 latency ms @ {rate}/s", "p99_ms", "{:.1f}"),
    ("p99.9 latency ms @ {rate}/s", "p999_ms", "{:.1f}"),
    ("CPU s / 10k msgs @ {rate}/s", "cpu_s_per_10k_at_latency_rate", "{:.2f}"),
    ("CPU s / 10k msgs, saturated", "cpu_s_per_10k_saturated", "{:.2f}"),
    ("state writes / msg (measured entities)", "writes_per_msg", "{:.2f}"),
    ("all state changes / msg", "all_state_changes_per_msg", "{:.2f}"),
    ("devices up: s to all entities numeric", "devices_ready_s", "{:.2f}"),
    ("RSS MiB before devices", "rss_before_devices_mib", "{:.0f}"),
    ("RSS MiB with devices up", "rss_after_devices_mib", "{:.0f}"),
    ("floor: only 2 entity writes / msg, msgs/s", "floor_entities_msgs_s", "{:.0f}"),
    ("floor: only 2 state-machine sets / msg, msgs/s", "floor_states_msgs_s", "{:.0f}"),
)


def fmt(value: float, pattern: str) -> str:
    return "n/a" if value is None or math.isnan(value) else pattern.format(value)


def ratio(b: float, a: float) -> float:
    if math.isnan(a) or math.isnan(b) or a == 0:
        return math.nan
    return b / a


def cell(numbers: dict[str, Any], key: str, pattern: str) -> str:
    """The median; with several runs also "(min-max)"."""
    text = fmt(numbers.get(key, math.nan), pattern)
    low, high = numbers.get("range", {}).get(key, [math.nan, math.nan])
    if numbers.get("runs", 0) - numbers.get("failed_runs", 0) > 1 and not math.isnan(low):
        text += f" ({fmt(low, pattern)}-{fmt(high, pattern)})"
    return text


def table(summary: dict[str, dict[str, Any]], rate: int) -> str:
    a, b = summary.get("A", {}), summary.get("B", {})
    runs = f" [{a.get('runs', 0)} run(s) / {b.get('runs', 0)} run(s); median (min-max)]"
    lines = [
        f"| metric{runs} | HA MQTT (A) | IoT Hub (B) | B / A |",
        "|---|---:|---:|---:|",
    ]
    for label, key, pattern in ROWS:
        va, vb = a.get(key, math.nan), b.get(key, math.nan)
        lines.append(
            f"| {label.format(rate=rate)} | {cell(a, key, pattern)} | {cell(b, key, pattern)} |"
            f" {fmt(ratio(vb, va), '{:.2f}')} |"
        )
    return "\n".join(lines)


def environment(args: argparse.Namespace) -> dict[str, Any]:
    def git(*argv: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(harness.ROOT), *argv], capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": cpu,
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "versions": {
            "homeassistant": importlib.metadata.version("homeassistant"),
            "paho-mqtt": importlib.metadata.version("paho-mqtt"),
            "mosquitto": harness.mosquitto_version(),
        },
        "git": {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain")),
            "iot_hub_dirty": bool(git("status", "--porcelain", "--", str(IOT_HUB_SRC))),
        },
        "core_layout": {
            "hass": args.hass_core,
            "mosquitto": args.aux_core,
            "load_generator": args.aux_core,
            "runner": args.aux_core,
        },
        "settings": {
            "devices": args.devices,
            "protocol": args.protocol,
            "qos": 0,
            "duration_s": args.duration,
            "latency_rate": args.latency_rate,
            "warmup_s": args.warmup,
            "saturation_rounds": args.saturation_rounds,
            "ladder": args.fixed_rates or {"fractions_of_saturation": args.ladder_fractions},
            "order": args.order,
            "quick": args.quick,
            "broker": "mosquitto, 127.0.0.1, persistence false, max_queued_messages 0,"
            " set_tcp_nodelay true, user/password; a fresh broker per side",
        },
    }


# --- main -------------------------------------------------------------------------------------


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report is not None:
        return print_report(json.loads(args.report.read_text()), args.report, write=False)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    cores = os.sched_getaffinity(0)
    if {args.hass_core, args.aux_core} - cores:
        raise SystemExit(f"cores {args.hass_core}/{args.aux_core} not all available: {cores}")
    os.sched_setaffinity(0, {args.aux_core})  # this runner stays off the hass core
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = environment(args)
    log(
        f"{args.devices} devices, MQTT {args.protocol}, QoS 0, {args.duration:.0f} s per phase;"
        f" hass on core {args.hass_core}, mosquitto + generator + runner on core {args.aux_core}"
    )
    notes: list[str] = []
    order = args.order
    if "B" in order and not FAMILIES.exists():
        notes.append(
            "IoT Hub (B) skipped: custom_components/iot_hub/broker/options.py does not exist yet"
            " (no iot/sensors/+/data support)"
        )
        log(notes[-1])
        order = order.replace("B", "")
    workdir = Path(tempfile.mkdtemp(prefix="iot_hub_bench."))
    runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    failed = False
    try:
        for index, key in enumerate(order):
            side = Side(key, index + 1, args, workdir)
            result = side.run()
            runs[key].append(result)
            failed = failed or "error" in result
    except KeyboardInterrupt:
        log("interrupted; everything started was stopped")
        failed = True
        return 130
    finally:
        if args.keep or failed:
            log(f"kept {workdir} (hass logs, mosquitto logs, send times)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {**env, "notes": notes, "runs": runs}
    return print_report(report, args.output, write=True) or (1 if failed else 0)


def print_report(report: dict[str, Any], output: Path, *, write: bool) -> int:
    """Summaries, ratios and notes from the raw runs; print them (and write the JSON)."""
    runs: dict[str, list[dict[str, Any]]] = report["runs"]
    notes = [n for n in report.get("notes", []) if "took up to" not in n]
    summary = {key: side_summary(value) for key, value in runs.items() if value}
    a, b = summary.get("A", {}), summary.get("B", {})
    nan = math.nan
    ratios = {
        "throughput_ratio": ratio(b.get("sustained_msgs_s", nan), a.get("sustained_msgs_s", nan)),
        "saturation_ratio": ratio(b.get("saturation_msgs_s", nan), a.get("saturation_msgs_s", nan)),
        "p99_ratio": ratio(b.get("p99_ms", nan), a.get("p99_ms", nan)),
        "cpu_per_msg_ratio": ratio(
            b.get("cpu_s_per_10k_saturated", nan), a.get("cpu_s_per_10k_saturated", nan)
        ),
        # The most any integration that writes its two states per message could reach,
        # as a multiple of HA MQTT's saturation throughput (floor measured in B's process).
        "entity_writes_bound_ratio": ratio(
            b.get("floor_entities_msgs_s", nan), a.get("saturation_msgs_s", nan)
        ),
        "state_sets_bound_ratio": ratio(
            b.get("floor_states_msgs_s", nan), a.get("saturation_msgs_s", nan)
        ),
    }
    for key, numbers in summary.items():
        if numbers["max_foreign_pct_on_hass_core"] > FOREIGN_LIMIT_PCT:
            notes.append(
                f"{SIDE_NAMES[key]}: other processes (or the hypervisor: steal) took up to"
                f" {numbers['max_foreign_pct_on_hass_core']:.0f} % of the hass core during a"
                " measured phase: the machine was not quiet, that side's numbers are pessimistic"
            )
    report = {**report, "notes": notes, "summary": summary, "ratios": ratios}
    if write:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(finite(report), indent=1, default=str) + "\n")
    settings = report.get("settings", {})
    print()
    print(
        f"{report.get('date', '?')}, {settings.get('devices')} devices, MQTT"
        f" {settings.get('protocol')}, order {settings.get('order')}, versions"
        f" {report.get('versions')}, cores {report.get('core_layout')}"
    )
    print(table(summary, settings.get("latency_rate", 0)))
    print()
    for key, value in ratios.items():
        print(f"{key}: {fmt(value, '{:.2f}')}")
    for note in notes:
        print(f"NOTE: {note}")
    for key, side_runs in runs.items():
        for run in side_runs:
            if "error" in run:
                print(f"NOTE: {SIDE_NAMES[key]} run {run['run']} failed: {run['error']}")
    print(f"raw results: {output}")
    ready_b = b.get("devices_ready_s", nan)
    print(
        f"RESULT throughput_ratio={fmt(ratios['throughput_ratio'], '{:.2f}')}"
        f" p99_ratio={fmt(ratios['p99_ratio'], '{:.2f}')}"
        f" devices_ready_s={fmt(ready_b, '{:.2f}')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
