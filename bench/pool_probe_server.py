"""Kiln served as `kiln serve` serves it, plus connection-pool figures for the benchmark.

    python -m bench.pool_probe_server --host 127.0.0.1 --port P

Same app (``app.main.create_app``), same uvicorn settings and shutdown handling as
``app.server.serve``; two extra routes, for the load-isolation benchmark only:

- ``GET /_bench/pool``: per SQLAlchemy pool (named by its ``logging_name``, else by the
  order it was created in) its size and overflow limit, checkouts, the peak of connections
  checked out and of overflow, how many checkouts found the pool full and had to queue, how
  long checkouts took (queueing, connecting and pre-ping) and how long connections stayed
  checked out (hold), and checkout timeouts;
  ``loop``: how late a 10 ms sleep wakes up (the event loop's delay, p50/p99/max);
- ``POST /_bench/pool/reset``: start counting afresh.

The figures come from SQLAlchemy's pool events (``checkout``/``checkin``) and from timing
``Pool.connect`` at class level, so they work for any number of engines the app creates.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import Pool


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


@dataclass
class PoolFigures:
    name: str
    size: int = 0
    max_overflow: int = 0
    checkouts: int = 0
    queued: int = 0  # checkouts that found every connection (and all overflow) taken
    timeouts: int = 0
    peak_checked_out: int = 0
    peak_overflow: int = 0
    checkout_s: list[float] = field(default_factory=list)
    hold_s: list[float] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        def ms(values: list[float], q: float) -> float:
            return round(_pct(values, q) * 1000, 2)

        return {
            "name": self.name,
            "size": self.size,
            "max_overflow": self.max_overflow,
            "checkouts": self.checkouts,
            "queued": self.queued,
            "timeouts": self.timeouts,
            "peak_checked_out": self.peak_checked_out,
            "peak_overflow": self.peak_overflow,
            "checkout_p50_ms": ms(self.checkout_s, 50),
            "checkout_p99_ms": ms(self.checkout_s, 99),
            "checkout_max_ms": ms(self.checkout_s, 100),
            "hold_p50_ms": ms(self.hold_s, 50),
            "hold_p99_ms": ms(self.hold_s, 99),
            "hold_max_ms": ms(self.hold_s, 100),
        }


class PoolProbe:
    """Counts every pool of the process; installed before the app creates its engines."""

    def __init__(self) -> None:
        self.figures: dict[int, PoolFigures] = {}
        self.names: dict[int, str] = {}
        self.held: dict[int, float] = {}  # id(connection record) -> checkout time

    def of(self, pool: Pool) -> PoolFigures:
        key = id(pool)
        if key not in self.names:
            self.names[key] = pool._orig_logging_name or f"pool-{len(self.names) + 1}"
        figures = self.figures.get(key)
        if figures is None:
            figures = self.figures[key] = PoolFigures(self.names[key])
        size = getattr(pool, "size", None)
        if callable(size):
            figures.size = int(size())
            figures.max_overflow = int(getattr(pool, "_max_overflow", 0))
        return figures

    def reset(self) -> None:
        self.figures.clear()

    def install(self) -> None:
        original = Pool.connect
        probe = self

        def connect(pool: Pool) -> Any:
            figures = probe.of(pool)
            checked_out = getattr(pool, "checkedout", None)
            if callable(checked_out) and figures.max_overflow > -1:
                if checked_out() >= figures.size + figures.max_overflow:
                    figures.queued += 1
            start = time.perf_counter()
            try:
                connection = original(pool)
            except PoolTimeout:
                figures.timeouts += 1
                raise
            figures.checkout_s.append(time.perf_counter() - start)
            figures.checkouts += 1
            if callable(checked_out):
                figures.peak_checked_out = max(figures.peak_checked_out, checked_out())
                overflow = max(0, int(pool.overflow()))  # type: ignore[attr-defined]
                figures.peak_overflow = max(figures.peak_overflow, overflow)
            return connection

        Pool.connect = connect  # type: ignore[method-assign]

        @event.listens_for(Pool, "checkout")
        def _checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
            probe.held[id(record)] = time.perf_counter()

        @event.listens_for(Pool, "checkin")
        def _checkin(_dbapi: Any, record: Any) -> None:
            started = probe.held.pop(id(record), None)
            pool = getattr(record, "_ConnectionRecord__pool", None)  # the record's own pool
            if started is not None and pool is not None:
                probe.of(pool).hold_s.append(time.perf_counter() - started)

    def report(self) -> list[dict[str, Any]]:
        return [figures.report() for figures in self.figures.values()]


class LoopLag:
    """How late a 10 ms sleep wakes up: the event loop's own delay, which every request
    and every database round trip of the process waits through too."""

    TICK = 0.01

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.task: asyncio.Task[None] | None = None

    def reset(self) -> None:
        self.lags = []
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.lags.append(time.perf_counter() - start - self.TICK)

    def report(self) -> dict[str, Any]:
        return {
            "name": "event loop lag",
            "p50_ms": round(_pct(self.lags, 50) * 1000, 2),
            "p99_ms": round(_pct(self.lags, 99) * 1000, 2),
            "max_ms": round(_pct(self.lags, 100) * 1000, 2),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    probe = PoolProbe()
    probe.install()

    import uvicorn

    from app.core.config import get_settings
    from app.main import create_app
    from app.server import DrainingServer

    settings = get_settings()
    app = create_app()

    lag = LoopLag()

    async def pool_figures() -> dict[str, Any]:
        return {"pools": probe.report(), "loop": lag.report()}

    async def reset() -> dict[str, str]:
        probe.reset()
        lag.reset()
        return {"result": "success"}

    app.add_api_route("/_bench/pool", pool_figures, methods=["GET"])
    app.add_api_route("/_bench/pool/reset", reset, methods=["POST"])
    try:  # the event loop `kiln serve` runs on (older trees: uvicorn's default)
        from app.accept_loop import LOOP
    except ImportError:
        LOOP = "auto"
    config = uvicorn.Config(
        app,
        loop=LOOP,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.shutdown_grace_period) + 5,
    )
    DrainingServer(config, app).run()


if __name__ == "__main__":
    main()
