"""Baseline for the CPU comparison: read the upstream's stream with plain async httpx.

Protocol with the parent: prints ``READY`` after a warm-up stream, waits for one line
on stdin, reads ``--streams`` streams (``--concurrency`` at a time), prints
``DONE <data lines>``, and exits after one more line (or EOF) on stdin. The parent
reads this process's CPU time from /proc between ``READY`` and ``DONE``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx


async def read_one(client: httpx.AsyncClient, url: str, body: dict[str, object]) -> int:
    lines = 0
    async with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                lines += 1
    return lines


async def run(url: str, streams: int, concurrency: int) -> None:
    body: dict[str, object] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await read_one(client, url, body)  # warm-up: imports, connection, code paths
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        gate = asyncio.Semaphore(concurrency)

        async def one() -> int:
            async with gate:
                return await read_one(client, url, body)

        counts = await asyncio.gather(*(one() for _ in range(streams)))
        print(f"DONE {sum(counts)}", flush=True)
        # Stay alive (and measurable) until the parent has read our CPU time.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="upstream chat completions URL")
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    try:  # the same event loop Kiln's server runs on, so the loop is not what differs
        import uvloop
    except ImportError:
        asyncio.run(run(args.url, args.streams, args.concurrency))
    else:
        uvloop.run(run(args.url, args.streams, args.concurrency))


if __name__ == "__main__":
    main()
