"""Read-side client for the load-isolation benchmark: polls Kiln's read endpoints and
times every answer, in its own process so the streams' client cannot delay it.

Protocol with the parent: after one warm-up round prints ``READY``, polls until a line
(or EOF) arrives on stdin, then prints one JSON line: a list of
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


async def reader(
    args: argparse.Namespace, index: int, stop: asyncio.Event, samples: list[Any]
) -> None:
    targets = paths(args.user, args.conversation_id)
    headers = {"authorization": f"Bearer {args.key}"}
    async with httpx.AsyncClient(base_url=args.base, headers=headers, timeout=args.timeout) as c:
        turn = index
        while not stop.is_set():
            name = ENDPOINTS[turn % len(ENDPOINTS)]
            await one(c, name, targets[name], samples)
            turn += 1
            await asyncio.sleep(args.interval)


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
    tasks = [asyncio.create_task(reader(args, i, stop, samples)) for i in range(args.readers)]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    stop.set()
    await asyncio.gather(*tasks)
    print(orjson.dumps(samples).decode(), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", required=True, help="Kiln's origin, http://127.0.0.1:PORT")
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--conversation-id", required=True)
    parser.add_argument("--readers", type=int, default=4, help="concurrent polling loops")
    parser.add_argument("--interval", type=float, default=0.05, help="pause between requests")
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
