"""A TCP proxy on 127.0.0.1 that can make the connections it carries half-open.

Between a client and a real broker, it forwards bytes both ways until told to
``swallow()``: from then on it reads and drops every byte in both directions,
on the connections it carries and on those it accepts meanwhile, and closes
neither side. Both ends keep an open TCP connection that carries nothing, the
way a NAT or firewall that lost the flow, or a peer whose host vanished, looks
to them: no FIN, no RST, just silence. A side that hangs up is not told to the
other one.

``forward()`` lets the connections accepted from then on through again; the
swallowed ones stay dead (bytes of their streams are lost).

Runs on the test's event loop: nothing here blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass

READ_SIZE = 65536


@dataclass(eq=False)
class _Connection:
    """One client connection and, unless it was swallowed from the start, its upstream."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    swallowed: bool = False


class HalfOpenProxy:
    """Forwards 127.0.0.1:``port`` to ``host``:``target``, or swallows everything.

    ``accepted`` counts the client connections so far; ``swallowed_from_client``
    and ``swallowed_from_upstream`` count the bytes dropped in each direction
    (a keep-alive ping sent into the void shows up in the first one);
    ``last_to_client`` is when bytes last went to a client (``loop.time()``): the
    last thing a client could have heard before its path went silent.
    """

    def __init__(self, host: str, target: int) -> None:
        self.host = host
        self.target = target
        self.port = 0
        self.accepted = 0
        self.swallowed_from_client = 0
        self.swallowed_from_upstream = 0
        self.last_to_client = 0.0
        self._swallowing = False
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def swallowing(self) -> bool:
        """Whether the proxy drops everything (set by ``swallow``, cleared by ``forward``)."""
        return self._swallowing

    def swallow(self) -> None:
        """Drop every byte from now on, both ways, on every connection; close nothing."""
        self._swallowing = True
        for connection in self._connections:
            connection.swallowed = True

    def forward(self) -> None:
        """Forward the connections accepted from now on (swallowed ones stay dead)."""
        self._swallowing = False

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 (``port``)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and close every connection, both sides."""
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self.accepted += 1
        connection = _Connection(writer, swallowed=self._swallowing)
        self._connections.add(connection)
        try:
            if connection.swallowed:
                # The connection attempt vanishes: never reaches the broker, never answered.
                await self._pump(connection, reader, None, upstream=False)
                return
            up_reader, connection.upstream = await asyncio.open_connection(self.host, self.target)
            await asyncio.gather(
                self._pump(connection, reader, connection.upstream, upstream=False),
                self._pump(connection, up_reader, writer, upstream=True),
            )
            if connection.swallowed:
                # Both ends hung up by themselves; stay until the test ends like a dead link.
                await asyncio.Future()
        finally:
            self._connections.discard(connection)
            for side in (writer, connection.upstream):
                if side is not None:
                    side.close()
            self._handlers.discard(handler)

    async def _pump(
        self,
        connection: _Connection,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter | None,
        *,
        upstream: bool,
    ) -> None:
        """Copy ``src`` to ``dst`` until EOF; drop everything once the connection is swallowed."""
        with contextlib.suppress(ConnectionError):
            while data := await src.read(READ_SIZE):
                if connection.swallowed or dst is None:
                    if upstream:
                        self.swallowed_from_upstream += len(data)
                    else:
                        self.swallowed_from_client += len(data)
                    continue
                dst.write(data)
                if upstream:
                    self.last_to_client = asyncio.get_running_loop().time()
                await dst.drain()
        if not connection.swallowed and dst is not None:
            # Forwarding: pass the hang-up on, as a plain TCP path would.
            dst.close()


@contextlib.asynccontextmanager
async def half_open_proxy(host: str, target: int) -> AsyncIterator[HalfOpenProxy]:
    """Yield a started proxy to ``host``:``target``; close it (and its connections) after."""
    proxy = HalfOpenProxy(host, target)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
