"""The event loop `kiln serve` runs on: uvloop, with new connections accepted in batches.

Since libuv 1.45 (libuv#3696) a uvloop server accepts one connection per loop iteration.
While the loop is busy — a burst of stream start-ups — every other new connection waits in
the kernel's accept queue for its turn, one iteration each: with 300 streams starting at
once, a `GET /health` waited 8–14 s before Kiln saw it (bench/RESULTS.md, *Load
isolation*). Here Python reads the listening socket and accepts everything waiting (up to
ACCEPT_BATCH) whenever it is readable, as asyncio's own loop does, and hands each
connection to a uvloop transport; the requests are then served side by side with the
streams instead of queueing outside the process.
"""

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvloop

logger = logging.getLogger("kiln.server")

ACCEPT_BATCH = 256  # connections taken per readiness event, at most
RETRY_AFTER = 1.0  # seconds to pause accepting when the process is out of descriptors
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

ProtocolFactory = Callable[[], asyncio.Protocol]


def _listeners(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Bound, listening sockets for every address `host` resolves to (as asyncio binds)."""
    infos = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )  # fmt: skip
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            listeners.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in listeners:
            sock.close()
        raise
    return listeners


class BatchAcceptServer:
    """What uvicorn uses of an `asyncio.Server`: `sockets`, `close()`, `wait_closed()`."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, listeners: list[socket.socket], make: Any
    ) -> None:
        self._loop = loop
        self._make = make
        self.sockets = listeners
        for sock in listeners:
            loop.add_reader(sock.fileno(), self._accept, sock)

    def _accept(self, sock: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                connection, _address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                logger.warning("cannot accept connections for now: %s", exc)
                self._loop.remove_reader(sock.fileno())
                self._loop.call_later(RETRY_AFTER, self._resume, sock)
                return
            self._loop.create_task(self._serve(connection))

    def _resume(self, sock: socket.socket) -> None:
        if sock in self.sockets:
            self._loop.add_reader(sock.fileno(), self._accept, sock)

    async def _serve(self, connection: socket.socket) -> None:
        try:
            connection.setblocking(False)
            if connection.family in (socket.AF_INET, socket.AF_INET6):
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await self._loop.connect_accepted_socket(self._make, connection)
        except OSError:  # the client went away before it was served
            connection.close()

    def is_serving(self) -> bool:
        return bool(self.sockets)

    def close(self) -> None:
        for sock in self.sockets:
            self._loop.remove_reader(sock.fileno())
            sock.close()
        self.sockets = []

    async def wait_closed(self) -> None:
        return None


class BatchAcceptLoop(uvloop.Loop):
    """uvloop, except that a plain TCP server (host and port, no TLS) accepts in batches;
    every other kind of server is uvloop's own."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: ProtocolFactory,
        host: Any = None,
        port: Any = None,
        *,
        sock: Any = None,
        backlog: int = 100,
        ssl: Any = None,
        **kwargs: Any,
    ) -> Any:
        if ssl is not None or sock is not None or not host or not isinstance(host, str) or kwargs:
            return await super().create_server(
                protocol_factory, host, port, sock=sock, backlog=backlog, ssl=ssl, **kwargs
            )
        listeners = await self.run_in_executor(None, _listeners, host, int(port or 0), backlog)
        return BatchAcceptServer(self, listeners, protocol_factory)


# For uvicorn's `loop` setting (an import string naming the loop factory).
LOOP = f"{__name__}:BatchAcceptLoop"
