"""Publishing with the ``mosquitto_pub`` command-line client, as a device would."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import subprocess

PUBLISH_TIMEOUT = 15.0


async def mosquitto_pub(
    connection: Sequence[str], topic: str, payload: str | bytes, *, qos: int, retain: bool
) -> None:
    """Publish with ``mosquitto_pub``; assert it succeeded.

    ``connection``: its options naming the broker and the credentials (-h, -p, -u, -P).
    """
    args = [*connection, "-t", topic, "-q", str(qos)]
    if retain:
        args.append("-r")
    stdin: bytes | None = None
    if isinstance(payload, str):
        args += ["-m", payload]
    elif payload:
        # -s sends stdin verbatim, so arbitrary bytes (even NULs) survive.
        args.append("-s")
        stdin = payload
    else:
        # -s refuses empty input ("Zero length input"); -n sends a null message.
        args.append("-n")
    proc = await asyncio.create_subprocess_exec(
        "mosquitto_pub",
        *args,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(stdin), PUBLISH_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"mosquitto_pub to {topic!r} timed out") from None
    if proc.returncode != 0:
        raise AssertionError(
            f"mosquitto_pub to {topic!r} exited with {proc.returncode}: "
            f"{stderr.decode(errors='replace').strip()}"
        )
