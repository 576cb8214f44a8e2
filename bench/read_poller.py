"""Read-side client for the load-isolation benchmark: polls Kiln's read endpoints and
times every answer, in its own process so the streams' client cannot delay it.

Protocol with the parent: after one warm-up round prints ``READY``, sends ``--rate`` reads
a second (the four endpoints in turn, open loop) until a line (or EOF) arrives on stdin,
waits for the answers still due, then prints one JSON line: a list of
``[sent_at, endpoint, status, seconds]`` (``sent_at`` on ``time.perf_counter()``, which is
CLOCK_MONOTONIC on Linux, the clock the parent's stream client uses; status 0 = timeout
or connection error).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import httpx
import orjson

ENDPOINTS = ("conversations", "messages", "info", "parameters")


def paths(user: str, conversation_id: str) -> dict[str, str]:
    return {
        "conversations": f"/v1/conversations?user={user}&limit=20",
        "messages": f"/v1/messages?user={user}&conversation_id={conversation_id}&limit=20",
        "info": "/v1/info",
        "parameters": "/v1/parameters",
    }


async def one(client: httpx.AsyncClient, name: str, path: str, samples: list[Any]) -> None:
    sent = time.perf_counter()
    try:
        answer = await client.get(path)
        status = answer.status_code
    except httpx.HTTPError:
        status = 0
    samples.append([sent, name, status, time.perf_counter() - sent])


async def poll(args: argparse.Namespace, stop: asyncio.Event, samples: list[Any]) -> None:
    """Open loop: one read every 1/rate seconds whatever the answers take, so a slow server
    gets the same read load as a fast one (a closed loop would ease off when it slows)."""
    targets = paths(args.user, args.conversation_id)
    headers = {"authorization": f"Bearer {args.key}"}
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=args.base, headers=headers, timeout=args.timeout, limits=limits
    ) as client:
        pending: set[asyncio.Task[None]] = set()
        start, turn = time.perf_counter(), 0
        while not stop.is_set():
            name = ENDPOINTS[turn % len(ENDPOINTS)]
            task = asyncio.create_task(one(client, name, targets[name], samples))
            pending.add(task)
            task.add_done_callback(pending.discard)
            turn += 1
            await asyncio.sleep(max(0.0, start + turn / args.rate - time.perf_counter()))
        if pending:
            await asyncio.wait(pending)


async def run(args: argparse.Namespace) -> None:
    warm: list[Any] = []
    targets = paths(args.user, args.conversation_id)
    headers = {"authorization": f"Bearer {args.key}"}
    async with httpx.AsyncClient(base_url=args.base, headers=headers, timeout=args.timeout) as c:
        for name in ENDPOINTS:
            await one(c, name, targets[name], warm)
    if any(status != 200 for _, _, status, _ in warm):
        print(orjson.dumps({"warm_up_failed": warm}).decode(), flush=True)
        return
    print("READY", flush=True)
    stop = asyncio.Event()
    samples: list[Any] = []
    polling = asyncio.create_task(poll(args, stop, samples))
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    stop.set()
    await polling
    print(orjson.dumps(samples).decode(), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", required=True, help="Kiln's origin, http://127.0.0.1:PORT")
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--conversation-id", required=True)
    parser.add_argument("--rate", type=float, default=20.0, help="reads per second")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
