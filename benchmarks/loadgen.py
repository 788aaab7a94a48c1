"""Load generator: pre-encoded QoS 0 PUBLISH packets on one raw TCP socket (open loop).

Run by benchmarks/run.py as a separate process pinned to its own core:

    loadgen.py --port P --username U --password W --protocol 3.1.1 --plan plan.json --out out.json

It encodes every packet of the plan first, connects, prints ``READY`` and waits
for a line on standard input; then it sends (paced at ``rate`` messages/s, or
flat out when the rate is 0), makes a PINGREQ round trip (the broker has read
everything) and writes the send times to ``--out``: per chunk of packets the
index of its first message and ``time.time_ns()`` just before the chunk was
handed to the kernel. Prints ``DONE`` at the end.
"""

import argparse
import json
from pathlib import Path
import sys
import time
from typing import Any

import mqtt_packets
import stream

FLAT_OUT_CHUNK = 256  # messages per send() when not paced
MIN_SLEEP = 0.0005  # s; below this the pacer sends a larger chunk instead of sleeping


def encode(plan: dict[str, Any], protocol: str) -> tuple[bytes, list[int]]:
    """All packets back to back, and the offset of each (plus the end)."""
    parts: list[bytes] = []
    devices = int(plan["devices"])
    if plan.get("discovery"):
        for d in range(devices):
            name = stream.device_name(d)
            topic = stream.DISCOVERY_TOPIC.format(device=name)
            parts.append(
                mqtt_packets.publish(topic, stream.discovery_payload(name), protocol, retain=True)
            )
    retain = bool(plan.get("retain"))
    for topic, payload in stream.stream_messages(devices, int(plan["k0"]), int(plan["rounds"])):
        parts.append(mqtt_packets.publish(topic, payload, protocol, retain))
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join(parts), offsets


def send(sock: Any, buffer: bytes, offsets: list[int], rate: float) -> dict[str, Any]:
    view = memoryview(buffer)
    total = len(offsets) - 1
    chunk_index: list[int] = []
    chunk_ns: list[int] = []
    sent = 0
    start = time.perf_counter()
    if rate <= 0:
        while sent < total:
            end = min(total, sent + FLAT_OUT_CHUNK)
            chunk_index.append(sent)
            chunk_ns.append(time.time_ns())
            sock.sendall(view[offsets[sent] : offsets[end]])
            sent = end
    else:
        while sent < total:
            now = time.perf_counter()
            due = min(total, int((now - start) * rate) + 1)
            if due > sent:
                chunk_index.append(sent)
                chunk_ns.append(time.time_ns())
                sock.sendall(view[offsets[sent] : offsets[due]])
                sent = due
            else:
                time.sleep(max(start + sent / rate - now, MIN_SLEEP))
    elapsed = time.perf_counter() - start
    return {
        "sent": total,
        "chunk_index": chunk_index,
        "chunk_ns": chunk_ns,
        "first_ns": chunk_ns[0] if chunk_ns else time.time_ns(),
        "last_ns": chunk_ns[-1] if chunk_ns else time.time_ns(),
        "send_seconds": elapsed,
        "requested_rate": rate,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="raw-socket MQTT load generator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--protocol", choices=sorted(mqtt_packets.PROTOCOL_LEVELS), required=True)
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    plan = json.loads(args.plan.read_text())
    t_encode = time.perf_counter()
    buffer, offsets = encode(plan, args.protocol)
    encode_s = time.perf_counter() - t_encode
    sock = mqtt_packets.open_session(
        args.host,
        args.port,
        client_id=f"bench-loadgen-{plan.get('name', 'x')}",
        username=args.username,
        password=args.password,
        protocol=args.protocol,
    )
    try:
        sock.settimeout(None)
        print("READY", flush=True)
        if sys.stdin.readline().strip() != "GO":
            return 2
        result = send(sock, buffer, offsets, float(plan.get("rate", 0)))
        sock.settimeout(300)
        mqtt_packets.ping(sock)
        result["acked_ns"] = time.time_ns()
        sock.sendall(mqtt_packets.DISCONNECT)
    finally:
        sock.close()
    result["encode_seconds"] = encode_s
    result["bytes"] = len(buffer)
    args.out.write_text(json.dumps(result))
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
