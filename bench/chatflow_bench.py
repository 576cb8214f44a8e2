"""How many waiting advanced-chat runs one Kiln process holds, and what each costs.

A fake OpenAI upstream answers every model call only after `--wait` seconds (one timer per
request, no polling); `--runs` clients start a streaming turn of a start → llm → answer app
(bench/bench-chatflow.yml) at once. While every run waits on the model, the server's
resident memory is read from /proc; the difference to its memory after a warm-up, divided
by the runs, is the memory of one waiting run (its task, scheduler, pool, open SSE response
and database rows in flight). Then the answers arrive and every stream must end with
`message_end`. Loopback only, throw-away SQLite; see bench/README.md.

    .venv/bin/python -m bench.chatflow_bench [--runs 1000 --wait 40]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench.sse_client import StreamResult, classify_dify, stream
from bench.stream_bench import ROOT, Bench, cpu_seconds, errors_of, pct, stop_process

DSL = ROOT / "bench" / "bench-chatflow.yml"
RESULTS = ROOT / "bench" / "RESULTS.md"
MARK_START, MARK_END = "<!-- chatflow-bench:start -->", "<!-- chatflow-bench:end -->"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class ChatflowBench(Bench):
    async def turn(self, user: str, timeout: float) -> StreamResult:
        body = {"inputs": {}, "query": "hi", "response_mode": "streaming", "user": user}
        return await stream(
            "127.0.0.1",
            self.kiln_port,
            "/v1/chat-messages",
            orjson.dumps(body),
            classify_dify,
            {"authorization": f"Bearer {self.api_key}"},
            timeout,
        )


async def measure(b: ChatflowBench, runs: int, wait: float) -> dict[str, float | int]:
    assert b.kiln is not None
    await b.configure(n_chunks=3)
    await asyncio.gather(*(b.turn(f"warm-{i}", 60) for i in range(20)))
    base_rss = rss_kb(b.kiln.pid)
    await b.configure(n_chunks=3, first_delay=wait)
    before = (await b.upstream_stats())["requests"]
    cpu0, t0 = cpu_seconds(b.kiln.pid), time.perf_counter()
    tasks = [asyncio.create_task(b.turn(f"run-{i}", wait * 4 + 120)) for i in range(runs)]
    deadline = time.monotonic() + wait * 0.8
    waiting = 0
    while time.monotonic() < deadline:  # every run has reached the model
        waiting = (await b.upstream_stats())["requests"] - before
        if waiting >= runs:
            break
        await asyncio.sleep(0.2)
    started_s = time.perf_counter() - t0
    start_cpu = cpu_seconds(b.kiln.pid) - cpu0
    await asyncio.sleep(1.0)
    held_rss = rss_kb(b.kiln.pid)
    cpu1 = cpu_seconds(b.kiln.pid)
    await asyncio.sleep(2.0)
    idle_cpu = (cpu_seconds(b.kiln.pid) - cpu1) / 2.0
    results = await asyncio.gather(*tasks)
    errors = errors_of(list(results))
    first = [r.first_message for r in results if r.first_message is not None]
    return {
        "runs": runs,
        "waiting": waiting,
        "started_s": started_s,
        "start_cpu_ms_per_run": start_cpu / runs * 1000,
        "base_rss_mb": base_rss / 1024,
        "held_rss_mb": held_rss / 1024,
        "kb_per_run": (held_rss - base_rss) / runs,
        "idle_cpu_per_s": idle_cpu,
        "ok": runs - len(errors),
        "first_message_p50_s": pct(first, 50),
        "errors": len(errors),
    }


def write_results(command: str, rows: list[dict[str, float | int]]) -> str:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        MARK_START,
        "## Graph apps: waiting advanced-chat runs held by one process",
        "",
        f"`{command}` ({stamp}, {platform.machine()}, Python {platform.python_version()}).",
        "Every run waits on the model; memory is the server's RSS while all of them wait,",
        "minus its RSS after a warm-up.",
        "",
        "| runs | all waiting after s | start CPU ms/run | RSS base MB | RSS held MB | KB/run"
        " | server CPU while waiting (s/s) | ended well | first message p50 s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['runs']} | {r['started_s']:.1f} | {r['start_cpu_ms_per_run']:.1f} "
            f"| {r['base_rss_mb']:.0f} | {r['held_rss_mb']:.0f} | {r['kb_per_run']:.0f} "
            f"| {r['idle_cpu_per_s']:.3f} | {r['ok']}/{r['runs']} "
            f"| {r['first_message_p50_s']:.1f} |"
        )
    lines.append(MARK_END)
    block = "\n".join(lines)
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if MARK_START in text:
        head, rest = text.split(MARK_START, 1)
        text = head + block + rest.split(MARK_END, 1)[1]
    elif "<!-- history:" in text:  # stream_bench keeps marked blocks above its history
        head, rest = text.split("<!-- history:", 1)
        cut = head.rstrip().rfind("\n## ")
        text = head[:cut] + "\n\n" + block + "\n" + head[cut:] + "<!-- history:" + rest
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
    return block


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", default="250,1000", help="comma-separated run counts")
    parser.add_argument("--wait", type=float, default=40.0, help="seconds the model waits")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiln-chatflow-bench-") as tmp:
        b = ChatflowBench(args, Path(tmp), dsl=DSL)
        try:
            await b.start_upstream()
            await b.start_kiln()
            rows = [await measure(b, int(n), args.wait) for n in args.runs.split(",")]
        finally:
            if b.kiln is not None:
                await stop_process(b.kiln)
            if b.upstream is not None:
                await stop_process(b.upstream)
    print(json.dumps(rows, indent=2))
    command = ".venv/bin/python -m bench.chatflow_bench " + shlex.join(sys.argv[1:])
    if not args.no_write:
        print(write_results(command.strip(), rows))


if __name__ == "__main__":
    asyncio.run(main())
