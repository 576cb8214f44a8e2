"""Kiln code sandbox benchmark: latency of a trivial Python code call, a JavaScript call and
a template render through the local worker pool (confined children), and throughput of
concurrent calls. Writes its block into bench/RESULTS.md (before *History*).

    .venv/bin/python -m bench.sandbox_bench [--calls 300 --gap 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from app.core.config import Settings
from app.sandbox.pool import LocalSandbox

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- sandbox-bench:start -->", "<!-- sandbox-bench:end -->"

PYTHON = "def main(arg1: str, arg2: int) -> dict:\n    return {'result': arg1 * arg2}\n"
JAVASCRIPT = "function main({arg1, arg2}) {\n  return {result: arg1.repeat(arg2)}\n}\n"
TEMPLATE = "Hello {{ name }}! {% for i in items %}{{ i }},{% endfor %}"


JAVASCRIPT_SUSTAINED_GAP = 0.1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(call: Callable[[], Awaitable[object]], calls: int, gap: float) -> list[float]:
    times: list[float] = []
    for _ in range(calls):
        if gap:
            await asyncio.sleep(gap)
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def pool_cpu_seconds(box: LocalSandbox) -> float:
    """CPU time of the pool's workers and of the children they reaped (from /proc)."""
    total = 0.0
    for worker in box._idle:
        with open(f"/proc/{worker.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


async def run(calls: int, gap: float, concurrent: int) -> tuple[list[list[str]], str]:
    box = LocalSandbox(Settings())
    kinds: dict[str, Callable[[], Awaitable[object]]] = {
        "Python code call": lambda: box.run_code("python3", PYTHON, {"arg1": "ab", "arg2": 3}),
        "JavaScript code call": lambda: box.run_code(
            "javascript", JAVASCRIPT, {"arg1": "ab", "arg2": 3}
        ),
        "template render": lambda: box.render_template(TEMPLATE, {"name": "Ada", "items": [1, 2]}),
    }
    rows: list[list[str]] = []
    try:
        for call in kinds.values():  # start the worker and its warm children
            await call()
            await asyncio.sleep(0.2)
        for name, call in kinds.items():
            pacings = [gap, 0.0]
            if name == "JavaScript code call":  # V8 starts per call: also a rate 2 cores keep
                pacings.insert(0, JAVASCRIPT_SUSTAINED_GAP)
            for pause in pacings:
                label = f"{pause * 1000:g} ms apart" if pause else "back to back"
                await asyncio.sleep(0.2)
                cpu = pool_cpu_seconds(box) + time.process_time()
                times = await timed(call, calls, pause)
                await asyncio.sleep(0.2)  # the last child is confined and reaped
                cpu = pool_cpu_seconds(box) + time.process_time() - cpu
                rows.append(
                    [
                        name,
                        label,
                        f"{statistics.median(times):.1f}",
                        f"{percentile(times, 0.99):.1f}",
                        f"{cpu / calls * 1000:.1f}",
                    ]
                )
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        total = concurrent * 10
        for _ in range(10):
            await asyncio.gather(*(kinds["Python code call"]() for _ in range(concurrent)))
        elapsed = time.perf_counter() - started
        throughput = (
            f"{total} Python calls, {concurrent} at a time, {box._settings.code_sandbox_workers} "
            f"workers: {total / elapsed:.0f} calls/s"
        )
    finally:
        await box.aclose()
    return rows, throughput


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def write_results(
    rows: list[list[str]], throughput: str, command: str, calls: int, load: str
) -> None:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        START,
        "## Code sandbox",
        "",
        f"Written by `bench/sandbox_bench.py` ({when}, `{command}`) on {platform.machine()}, "
        f"Linux {platform.release()}. Each call goes through the local pool: server -> worker "
        "-> an already forked and confined child (rlimits, Landlock, seccomp) -> answer. "
        f"{calls} calls per row; one worker serves sequential calls, so back-to-back calls "
        "also wait for its next child to be confined (JavaScript: V8 started in it, "
        "`KILN_CODE_SANDBOX_WARM_JAVASCRIPT` spares kept ready; at ~45 ms of CPU per V8 "
        "start, JavaScript calls 20 ms apart ask for more CPU than 2 cores have). "
        f"Load average before/after the run: {load} ({os.cpu_count()} cores; other work on "
        "the machine inflates these figures).",
        "",
        "| call | pacing | p50 ms | p99 ms | CPU ms per call (server, worker, child) |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows),
        "",
        f"Throughput: {throughput}.",
        "",
        END,
    ]
    section = "\n".join(lines)
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    elif "## History" in text:  # the stream benchmark keeps marked blocks above History
        head, tail = text.split("## History", 1)
        text = head + section + "\n\n## History" + tail
    else:
        text = text + "\n" + section + "\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between paced calls")
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    before = load_average()
    rows, throughput = asyncio.run(run(args.calls, args.gap, args.concurrent))
    load = f"{before} / {load_average()}"
    print(f"load average before/after: {load}")
    for row in rows:
        print(" | ".join(row))
    print(throughput)
    if not args.no_write:
        command = ".venv/bin/python -m bench.sandbox_bench"
        write_results(rows, throughput, command, args.calls, load)


if __name__ == "__main__":
    main()
