"""Waiting for PUBACK, SUBACK and UNSUBACK by message id.

Whichever comes first, the ack or its waiter, creates the future of that
message id (as Home Assistant's MQTT client does): an ack that arrives before
the caller got to wait for it (paho delivering it within the very call that
sent the request) is kept, done, for the waiter to find.

Nothing accumulates:

- a waiter that ends (acknowledged, refused, timed out, cancelled) drops its
  future, so a late ack for it finds none;
- an ack nobody waits for yet is kept until the loop's next iteration only:
  every waiter registers in the same step as the paho call that produced its
  message id. That covers a late ack of a waiter that gave up, and paho's
  on_publish for every QoS 0 PUBLISH it has written, which nobody waits for;
- losing the connection fails every waiter and drops every unclaimed ack.
"""

import asyncio


def _retrieved(fut: asyncio.Future[None]) -> None:
    """Mark an unclaimed (done, never cancelled) ack's refusal as seen.

    asyncio logs "exception was never retrieved" for a failed future otherwise.
    """
    fut.exception()


class AckWaiters:
    """Futures of outstanding acks, keyed by message id."""

    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._unclaimed: dict[int, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        """How many futures are held (waited for, or done and not yet claimed)."""
        return len(self._waiting) + len(self._unclaimed)

    async def wait(self, mid: int) -> None:
        """Return once `mid` is acknowledged; raise what a refusal carried.

        Bound it with ``asyncio.timeout``: a waiter that gives up drops its future.
        """
        fut = self._unclaimed.pop(mid, None)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
        self._waiting[mid] = fut
        try:
            await fut
        finally:
            if self._waiting.get(mid) is fut:
                del self._waiting[mid]

    def resolve(self, mid: int, error: Exception | None = None) -> None:
        """Record the ack of `mid`: a success, or the refusal `error`."""
        fut = self._waiting.get(mid)
        if fut is None:
            if mid in self._unclaimed:
                return  # a duplicate
            loop = asyncio.get_running_loop()
            fut = self._unclaimed[mid] = loop.create_future()
            loop.call_soon(self._expire, mid, fut)
        elif fut.done():
            return
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)

    def fail_all(self, error: Exception) -> None:
        """Fail every waiter with `error` and drop the unclaimed acks (connection gone)."""
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(error)
        for fut in self._unclaimed.values():
            _retrieved(fut)
        self._unclaimed.clear()

    def _expire(self, mid: int, fut: asyncio.Future[None]) -> None:
        if self._unclaimed.get(mid) is fut:
            del self._unclaimed[mid]
            _retrieved(fut)
