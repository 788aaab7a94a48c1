"""Benchmark probe, copied into a throwaway config dir as custom_components/bench_probe.

It records ``(entity_id, state, time.time_ns())`` for every ``state_changed`` of a
``sensor.dev*`` entity and counts ``state_reported`` events of those entities (and all
``state_changed`` events). The per-event work is a prefix test, a tuple and a list
append, the same whichever integration writes the state. Actions (called over REST):

- ``bench_probe.arm`` {expect: {entity_id: number}, path}: when every listed entity
  has shown its number, write ``{"done_ns": ...}`` to ``path``.
- ``bench_probe.dump`` {path}: write the records and counters to ``path`` (JSON)
  and start afresh; the response has the counters.
- ``bench_probe.status``: counters and how many expected values are still missing.
- ``bench_probe.profile`` {seconds, path}: cProfile for that long, stats to ``path``.
- ``bench_probe.floor`` {messages, mode}: the cost of the state writes alone. For each
  "message" (round robin over the ``sensor.devNNNN_temperature``/``_humidity`` pairs) it
  writes two new values and nothing else: ``mode: entities`` through the integration's
  own entity objects (``_attr_native_value`` + ``async_write_ha_state``, what any
  entity-based integration pays at least), ``mode: states`` straight into the state
  machine (``async_set_internal`` with the entity's current attributes, below what any
  integration can do). 50 messages per loop iteration, like a draining reader. Returns
  msgs/s, process CPU and the time spent in garbage collections.

With ``keep_mqtt_protocol: true`` it also stops Home Assistant's MQTT integration from
moving an MQTT 3.1.1 entry to MQTT 5 at setup (2026.10 does that whenever the broker
accepts 5), so that the benchmark can pin both sides to 3.1.1: the check connection
made for that move reports failure; nothing else of the integration is touched.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
import cProfile
import gc
import importlib
import json
import logging
from pathlib import Path
import time
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import (
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers.typing import ConfigType

_LOGGER = logging.getLogger(__name__)
DOMAIN = "bench_probe"
PREFIX = "sensor.dev"


def _write(path: str, text: str) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _number(state: str | None) -> float | None:
    try:
        return float(state)  # type: ignore[arg-type]
    except TypeError, ValueError:
        return None


def _writer(
    hass: HomeAssistant, component: Any, entity_id: str, mode: str
) -> Callable[[float], None]:
    """A function that shows a new value on `entity_id` (see ``floor``)."""
    if mode == "states":
        states = hass.states

        def set_state(value: float) -> None:
            attributes = states.get(entity_id).attributes  # type: ignore[union-attr]
            states.async_set_internal(
                entity_id, str(value), attributes, False, None, None, time.time()
            )

        return set_state
    entity = component.get_entity(entity_id)

    def write(value: float) -> None:
        entity._attr_native_value = value
        entity.async_write_ha_state()

    return write


def _young_objects(run: Callable[[], int | None]) -> dict[str, Any]:
    """What `run` leaves for the collector: new tracked objects still alive, cyclic garbage.

    Collections are triggered by the count of tracked objects allocated and not
    yet freed; what stays alive (or in cycles) is what makes them frequent.
    """
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        run()
        grown = gc.get_count()[0] - before
        kinds = Counter(type(o).__qualname__ for o in gc.get_objects(generation=0))
        garbage = gc.collect()
    finally:
        gc.enable()
    return {"net_tracked": grown, "cyclic_garbage": garbage, "top": kinds.most_common(8)}


async def _keep_mqtt_protocol(hass: HomeAssistant) -> None:
    mqtt: Any = await hass.async_add_import_executor_job(
        importlib.import_module, "homeassistant.components.mqtt"
    )
    original: Callable[[dict[str, Any]], bool] = mqtt.try_connection

    def try_connection(data: dict[str, Any]) -> bool:
        if data.get("protocol") == "5":
            _LOGGER.warning("bench_probe: MQTT stays on protocol %s", "3.1.1")
            return False  # only the 3.1.1 -> 5 migration test asks for 5 here
        return original(data)

    mqtt.try_connection = try_connection
    _LOGGER.warning("bench_probe: the MQTT integration will keep its entry's protocol")


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    if (config.get(DOMAIN) or {}).get("keep_mqtt_protocol"):
        await _keep_mqtt_protocol(hass)
    records: list[tuple[str, str | None, int]] = []
    append = records.append
    time_ns = time.time_ns
    counters = {"reported": 0, "all_changed": 0}
    expect: dict[str, float] = {}  # entity_id -> the value that ends the phase
    matched: set[str] = set()  # entities showing their expected value right now
    armed: dict[str, Any] = {"path": None, "done_ns": None}

    @callback
    def finish() -> None:
        armed["done_ns"] = done_ns = time_ns()
        expect.clear()
        matched.clear()
        if (path := armed["path"]) is not None:
            armed["path"] = None
            hass.async_add_executor_job(_write, path, json.dumps({"done_ns": done_ns}))

    @callback
    def on_changed(event: Event[EventStateChangedData]) -> None:
        counters["all_changed"] += 1
        data = event.data
        entity_id = data["entity_id"]
        if entity_id.startswith(PREFIX):
            new = data["new_state"]
            state = None if new is None else new.state
            append((entity_id, state, time_ns()))
            if expect and (want := expect.get(entity_id)) is not None:
                if _number(state) == want:
                    matched.add(entity_id)
                    if len(matched) == len(expect):
                        finish()
                else:
                    matched.discard(entity_id)

    @callback
    def count_reported(data: EventStateReportedData) -> bool:
        if data["entity_id"].startswith(PREFIX):
            counters["reported"] += 1
        return False  # counted here; the listener itself never runs

    @callback
    def never(event: Event[EventStateReportedData]) -> None:
        """Not called (the filter says no)."""

    # Time spent in garbage collections, per generation (a few hundred calls per phase).
    gc_ns = [0, 0, 0]
    gc_max_ns = [0, 0, 0]
    gc_started = [0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter_ns()
            return
        generation = min(info.get("generation", 0), 2)
        spent = time.perf_counter_ns() - gc_started[0]
        gc_ns[generation] += spent
        gc_max_ns[generation] = max(gc_max_ns[generation], spent)

    gc.callbacks.append(on_gc)
    hass.bus.async_listen(EVENT_STATE_CHANGED, on_changed)
    hass.bus.async_listen(EVENT_STATE_REPORTED, never, event_filter=count_reported)

    def status() -> dict[str, Any]:
        return {
            "records": len(records),
            "reported": counters["reported"],
            "all_changed": counters["all_changed"],
            "pending": len(expect) - len(matched),
            "pending_sample": dict([(k, v) for k, v in expect.items() if k not in matched][:5]),
            "done_ns": armed["done_ns"],
            "gc_collections": [gen["collections"] for gen in gc.get_stats()],
            "gc_ns": list(gc_ns),
            "gc_max_ns": list(gc_max_ns),
        }

    async def arm(call: ServiceCall) -> ServiceResponse:
        expect.clear()
        matched.clear()
        armed["path"] = str(call.data["path"])
        armed["done_ns"] = None
        wanted = {str(k): float(v) for k, v in dict(call.data["expect"]).items()}
        for entity_id, value in wanted.items():
            state = hass.states.get(entity_id)
            if state is not None and _number(state.state) == value:
                matched.add(entity_id)
        expect.update(wanted)
        if len(matched) == len(expect):
            finish()
        return status()

    async def dump(call: ServiceCall) -> ServiceResponse:
        answer = status()
        snapshot = records.copy()
        records.clear()
        counters["reported"] = counters["all_changed"] = 0
        gc_max_ns[:] = [0, 0, 0]
        text = json.dumps({**answer, "records": snapshot})
        await hass.async_add_executor_job(_write, str(call.data["path"]), text)
        return answer

    async def get_status(call: ServiceCall) -> ServiceResponse:
        return status()

    async def profile(call: ServiceCall) -> ServiceResponse:
        profiler = cProfile.Profile()
        path = str(call.data["path"])

        @callback
        def stop() -> None:
            profiler.disable()
            hass.async_add_executor_job(profiler.dump_stats, path)

        profiler.enable()
        hass.loop.call_later(float(call.data["seconds"]), stop)
        return {"profiling": True}

    async def floor(call: ServiceCall) -> ServiceResponse:
        messages = int(call.data.get("messages", 20000))
        mode = str(call.data.get("mode", "entities"))
        temps = sorted(
            e
            for e in hass.states.async_entity_ids("sensor")
            if e.startswith(PREFIX) and e.endswith("_temperature")
        )
        pairs = [(t, t.removesuffix("_temperature") + "_humidity") for t in temps]
        pairs = [p for p in pairs if hass.states.get(p[1]) is not None]
        if not pairs:
            return {"error": "no sensor.devNNNN_temperature/_humidity pairs"}
        component: Any = hass.data.get("sensor")
        writers: list[Callable[[float], None]] = []
        for pair in pairs:
            for entity_id in pair:
                writers.append(_writer(hass, component, entity_id, mode))
        count = len(pairs)
        done: asyncio.Future[None] = hass.loop.create_future()
        gc_before = sum(gc_ns)
        started = time.perf_counter()
        cpu_started = time.process_time()

        def chunk_once(start: int, number: int) -> None:
            for k in range(start, start + number):
                index = k % count
                lap = k // count
                writers[2 * index](200 + (lap % 1000) / 10)
                writers[2 * index + 1](float(200 + lap % 49))

        def chunk(start: int) -> None:
            end = min(start + 50, messages)
            for k in range(start, end):
                index = k % count
                lap = k // count
                writers[2 * index](200 + (lap % 1000) / 10)
                writers[2 * index + 1](float(200 + lap % 49))
            if end < messages:
                hass.loop.call_soon(chunk, end)
            else:
                done.set_result(None)

        hass.loop.call_soon(chunk, 0)
        await done
        wall = time.perf_counter() - started
        young = _young_objects(lambda: chunk_once(messages, min(2000, count * 2)))
        return {
            "mode": mode,
            "messages": messages,
            "pairs": count,
            "wall_s": round(wall, 3),
            "cpu_s": round(time.process_time() - cpu_started, 3),
            "gc_s": round((sum(gc_ns) - gc_before) / 1e9, 3),
            "msgs_per_s": round(messages / wall, 1),
            "young_objects": young,
        }

    for name, handler in (
        ("floor", floor),
        ("arm", arm),
        ("dump", dump),
        ("status", get_status),
        ("profile", profile),
    ):
        hass.services.async_register(
            DOMAIN, name, handler, supports_response=SupportsResponse.OPTIONAL
        )
    return True
