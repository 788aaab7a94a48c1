"""Turn the generator's send times and the probe's state records into the reported numbers."""

from collections.abc import Sequence
from dataclasses import dataclass
import math
from typing import Any

import stream

MEASURED_SUFFIXES = tuple(f"_{key}" for key in stream.KEYS)


def send_times(sent: dict[str, Any], total: int) -> list[int]:
    """time.time_ns() at which message i was handed to the kernel (its chunk's time)."""
    index: list[int] = sent["chunk_index"]
    stamps: list[int] = sent["chunk_ns"]
    times = [0] * total
    for j, start in enumerate(index):
        end = index[j + 1] if j + 1 < len(index) else total
        times[start:end] = [stamps[j]] * (end - start)
    return times


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Matched:
    """Temperature states matched to the messages that carried them."""

    samples: list[tuple[int, int]]  # (send ns, latency ns), in state order
    unmatched: int  # states no message of this phase explains (unknown, unavailable, ...)
    skipped: int  # messages passed over (a later value showed up first)
    missing: int  # messages at the end of a device's sequence that never showed up


def match_temperatures(
    records: Sequence[Sequence[Any]], devices: int, k0: int, rounds: int, times: Sequence[int]
) -> Matched:
    """Per device, walk the sent sequence; each state takes the next message with its value."""
    pointer = [k0] * devices
    end = k0 + rounds
    samples: list[tuple[int, int]] = []
    unmatched = skipped = 0
    for entity_id, state, t_ns in records:
        if not entity_id.endswith("_temperature"):
            continue
        try:
            d = stream.device_index(entity_id)
        except ValueError:
            unmatched += 1
            continue
        slot = stream.temperature_slot(state)
        if slot is None or not 0 <= d < devices:
            unmatched += 1
            continue
        p = pointer[d]
        k = p + (slot - p) % stream.TEMP_CYCLE
        if k >= end:
            unmatched += 1
            continue
        skipped += k - p
        pointer[d] = k + 1
        i = (k - k0) * devices + d
        samples.append((times[i], t_ns - times[i]))
    missing = sum(end - p for p in pointer)
    return Matched(samples, unmatched, skipped, missing)


def latency_summary(samples: Sequence[tuple[int, int]]) -> dict[str, float]:
    """Percentiles in ms, and how latency moved from the first to the last fifth of sends."""
    ordered = sorted(lat / 1e6 for _, lat in samples)
    by_send = sorted(samples)
    fifth = max(1, len(by_send) // 5)
    head = sorted(lat / 1e6 for _, lat in by_send[:fifth])
    tail = sorted(lat / 1e6 for _, lat in by_send[-fifth:])
    return {
        "count": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p90_ms": percentile(ordered, 90),
        "p99_ms": percentile(ordered, 99),
        "p999_ms": percentile(ordered, 99.9),
        "max_ms": ordered[-1] if ordered else math.nan,
        "mean_ms": sum(ordered) / len(ordered) if ordered else math.nan,
        "p50_first_fifth_ms": percentile(head, 50),
        "p50_last_fifth_ms": percentile(tail, 50),
        "p10_first_fifth_ms": percentile(head, 10),
        "p10_last_fifth_ms": percentile(tail, 10),
    }


def count_writes(records: Sequence[Sequence[Any]]) -> int:
    """state_changed events of the measured entities (temperature and humidity)."""
    return sum(1 for entity_id, _, _ in records if entity_id.endswith(MEASURED_SUFFIXES))


def median(values: Sequence[float]) -> float:
    finite = sorted(v for v in values if not math.isnan(v))
    if not finite:
        return math.nan
    mid = len(finite) // 2
    return finite[mid] if len(finite) % 2 else (finite[mid - 1] + finite[mid]) / 2
