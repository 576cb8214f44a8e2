"""Kiln stream benchmark: relay CPU cost, time to first event, concurrent streams held.

Everything runs on loopback and stops by itself: a fake OpenAI upstream
(``tests.support.fake_upstream``), a Kiln server on a throw-away SQLite database,
and this process as the client. See bench/README.md.

    .venv/bin/python -m bench.stream_bench [--chunks 200 --delay 0.005 --streams 40 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.entry import run_benchmark
from bench.sse_client import StreamResult, classify_dify, classify_openai, stream

ROOT = Path(__file__).resolve().parents[1]
DSL = ROOT / "bench" / "bench-chat.yml"
RESULTS = ROOT / "bench" / "RESULTS.md"
PY = sys.executable
KILN = str(Path(sys.executable).with_name("kiln"))
TICKS = os.sysconf("SC_CLK_TCK")
HISTORY_MARK = "<!-- history: one row per run, kept across runs -->"
# Other benchmarks' marked blocks (bench/annotation_bench.py: one per search path), kept.
KEPT_BLOCK = re.compile(r"<!-- ([\w-]+):start -->.*?<!-- \1:end -->", re.DOTALL)


# -- processes ---------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, utime+stime seconds) of one process, from /proc/<pid>/stat."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def busy_seconds() -> float:
    """CPU time spent by the whole machine (all cores, not idle), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / TICKS


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and its live descendants."""
    stats = {int(p.name): _stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        seen.add(current)
        stat = stats.get(current)
        if stat is not None:
            total += stat[1]
        todo += [c for c, s in stats.items() if s and s[0] == current and c not in seen]
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 15)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def read_line(proc: asyncio.subprocess.Process, timeout: float) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        raise RuntimeError(f"process {proc.pid} exited (code {await proc.wait()})")
    return line.decode().strip()


@dataclass
class Bench:
    args: argparse.Namespace
    tmp: Path
    upstream: asyncio.subprocess.Process | None = None
    upstream_url: str = ""
    kiln: asyncio.subprocess.Process | None = None
    kiln_port: int = 0
    api_key: str = ""
    results: dict[str, Any] = field(default_factory=dict)
    dsl: Path = DSL  # the app `kiln apps import` brings in

    # -- set-up ------------------------------------------------------------------------
    async def start_upstream(self) -> None:
        self.upstream = await asyncio.create_subprocess_exec(
            PY,
            "-m",
            "tests.support.fake_upstream",
            "--port",
            "0",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        line = await read_line(self.upstream, 30)
        if not line.startswith("READY "):
            raise RuntimeError(f"fake upstream said {line!r}")
        self.upstream_url = line.split()[1]

    def kiln_env(self) -> dict[str, str]:
        return os.environ | {
            "KILN_DATABASE_URL": f"sqlite+aiosqlite:///{self.tmp / 'kiln.db'}",
            "KILN_MODEL_OVERRIDE": "openai/gpt-4o-mini",
            "OPENAI_BASE_URL": self.upstream_url,
            "OPENAI_API_KEY": "sk-bench",
            "KILN_LOG_LEVEL": "warning",
        }

    async def kiln_command(self, *argv: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            KILN,
            *argv,
            cwd=ROOT,
            env=self.kiln_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        if proc.returncode != 0:
            raise RuntimeError(f"kiln {' '.join(argv)} failed:\n{err.decode()[-2000:]}")
        return out.decode()

    async def start_kiln(self) -> None:
        await self.kiln_command("migrate")
        imported = await self.kiln_command("apps", "import", str(self.dsl), "--json")
        record = json.loads(imported.strip().splitlines()[-1])
        self.api_key = record["api_key"]
        self.kiln_port = free_port()
        log = (self.tmp / "kiln.log").open("wb")
        self.kiln = await asyncio.create_subprocess_exec(
            KILN,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.kiln_port),
            cwd=ROOT,
            env=self.kiln_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.kiln.returncode is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    health = await client.get(f"http://127.0.0.1:{self.kiln_port}/health")
                    if health.status_code == 200:
                        return
                await asyncio.sleep(0.1)
        tail = (self.tmp / "kiln.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"kiln serve did not come up:\n{tail}")

    async def configure(self, **behaviour: Any) -> None:
        base = self.upstream_url.removesuffix("/v1")
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{base}/_control/behaviour", json={"reset": True} | behaviour
            )
            answer.raise_for_status()

    async def upstream_stats(self) -> dict[str, Any]:
        base = self.upstream_url.removesuffix("/v1")
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{base}/_control/stats")
            answer.raise_for_status()
            return dict(answer.json())

    # -- one stream ------------------------------------------------------------------------
    async def kiln_stream(self, user: str, timeout: float) -> StreamResult:
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

    async def direct_stream(self, timeout: float) -> StreamResult:
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        port = int(self.upstream_url.split(":")[2].split("/")[0])
        return await stream(
            "127.0.0.1",
            port,
            "/v1/chat/completions",
            orjson.dumps(body),
            classify_openai,
            None,
            timeout,
        )

    async def kiln_streams(
        self, count: int, concurrency: int, timeout: float
    ) -> list[StreamResult]:
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> StreamResult:
            async with gate:
                return await self.kiln_stream(f"bench-{index}", timeout)

        return list(await asyncio.gather(*(one(i) for i in range(count))))


# -- statistics and tables ---------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """Most spans (start, end) open at one instant."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _, step in edges:
        current += step
        peak = max(peak, current)
    return peak


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.1f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def errors_of(results: list[StreamResult]) -> list[str]:
    return [r.error or f"status {r.status}" for r in results if not r.ok]


# -- sections ------------------------------------------------------------------------------
async def section_cpu(b: Bench) -> str:
    a = b.args
    await b.configure(n_chunks=a.chunks, delay=a.delay)
    timeout = a.chunks * a.delay * 10 + 60
    await b.kiln_streams(3, 3, timeout)  # warm-up
    assert b.kiln is not None
    cpu0, t0 = cpu_seconds(b.kiln.pid), time.perf_counter()
    results = await b.kiln_streams(a.streams, a.concurrency, timeout)
    kiln_cpu, kiln_wall = cpu_seconds(b.kiln.pid) - cpu0, time.perf_counter() - t0
    relayed = sum(len(r.message_times) for r in results)

    worker = await asyncio.create_subprocess_exec(
        PY,
        "-m",
        "bench.baseline_worker",
        "--url",
        f"{b.upstream_url}/chat/completions",
        "--streams",
        str(a.streams),
        "--concurrency",
        str(a.concurrency),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert worker.stdin is not None
    try:
        if (line := await read_line(worker, 60)) != "READY":
            raise RuntimeError(f"baseline worker said {line!r}")
        cpu0, t0 = cpu_seconds(worker.pid), time.perf_counter()
        worker.stdin.write(b"go\n")
        line = await read_line(worker, timeout * a.streams)
        base_cpu, base_wall = cpu_seconds(worker.pid) - cpu0, time.perf_counter() - t0
        worker.stdin.close()
        await asyncio.wait_for(worker.wait(), 30)
    finally:
        await stop_process(worker)

    chunks = a.streams * a.chunks
    kiln_per, base_per = kiln_cpu / chunks, base_cpu / chunks
    ratio = kiln_per / base_per if base_per else math.inf
    errs = errors_of(results)
    b.results["cpu"] = {"kiln_us": kiln_per * 1e6, "base_us": base_per * 1e6, "ratio": ratio}
    rows = [
        [
            "Kiln server (relay)",
            f"{kiln_per * 1e6:.1f}",
            f"{kiln_cpu:.2f}",
            f"{kiln_wall:.1f}",
            f"{relayed}/{chunks}",
            len(errs),
        ],
        [
            "baseline: httpx reading upstream",
            f"{base_per * 1e6:.1f}",
            f"{base_cpu:.2f}",
            f"{base_wall:.1f}",
            line.removeprefix("DONE "),
            0,
        ],
    ]
    headers = ["process", "CPU µs/chunk", "CPU s", "wall s", "events seen", "errors"]
    verdict = "PASS" if ratio <= 3 and not errs else "FAIL"
    return (
        f"{a.streams} streams x {a.chunks} chunks, {a.delay * 1000:g} ms apart, "
        f"{a.concurrency} at a time.\n\n{table(headers, rows)}\n\n"
        f"**kiln_cpu_per_chunk = {kiln_per * 1e6:.1f} µs, baseline_cpu_per_chunk = "
        f"{base_per * 1e6:.1f} µs, ratio = {ratio:.2f}x** (target <= 3x: {verdict})"
        + (f"\n\nErrors: {sorted(set(errs))[:5]}" if errs else "")
    )


async def section_ttfe(b: Bench) -> str:
    a = b.args
    await b.configure(n_chunks=5, delay=0.0, first_delay=0.0)
    await b.kiln_streams(3, 1, 60)  # warm-up
    kiln, direct, errs = [], [], []
    for index in range(a.ttfe_requests):
        result = await b.kiln_stream(f"bench-ttfe-{index}", 60)
        if result.ok and result.first_message is not None:
            kiln.append(result.first_message)
        else:
            errs.append(result.error or f"status {result.status}")
    for _ in range(a.ttfe_requests):
        result = await b.direct_stream(60)
        if result.first_message is not None:
            direct.append(result.first_message)
    b.results["ttfe"] = {"p50_ms": pct(kiln, 50) * 1000, "p99_ms": pct(kiln, 99) * 1000}
    rows = [
        [
            "Kiln `POST /v1/chat-messages`",
            len(kiln),
            ms(pct(kiln, 50)),
            ms(pct(kiln, 99)),
            ms(max(kiln, default=math.nan)),
            len(errs),
        ],
        [
            "upstream directly (reference)",
            len(direct),
            ms(pct(direct, 50)),
            ms(pct(direct, 99)),
            ms(max(direct, default=math.nan)),
            a.ttfe_requests - len(direct),
        ],
    ]
    headers = ["target", "requests", "p50 ms", "p99 ms", "max ms", "errors"]
    return (
        f"{a.ttfe_requests} sequential requests each; upstream first_delay = 0, delay = 0. "
        f"Time from writing the POST to the first non-empty `message` event.\n\n"
        f"{table(headers, rows)}" + (f"\n\nErrors: {sorted(set(errs))[:5]}" if errs else "")
    )


async def run_level(b: Bench, level: int, n_chunks: int, delay: float) -> list[Any]:
    a = b.args
    assert b.kiln is not None and b.upstream is not None
    timeout = n_chunks * delay * 3 + a.ramp + 60

    async def one(index: int) -> StreamResult:
        await asyncio.sleep(a.ramp * index / level)
        return await b.kiln_stream(f"bench-c{level}-{index}", timeout)

    kiln0, up0, me0 = cpu_seconds(b.kiln.pid), cpu_seconds(b.upstream.pid), time.process_time()
    busy0, stats0 = busy_seconds(), await b.upstream_stats()
    t0 = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(level)))
    wall = time.perf_counter() - t0
    kiln_cpu = (cpu_seconds(b.kiln.pid) - kiln0) / wall * 100
    up_cpu = (cpu_seconds(b.upstream.pid) - up0) / wall * 100
    me_cpu = (time.process_time() - me0) / wall * 100
    other_cpu = (busy_seconds() - busy0) / wall * 100 - kiln_cpu - up_cpu - me_cpu
    stats1 = await b.upstream_stats()
    upstream_requests = stats1["requests"] - stats0["requests"]
    added, slips, ttfe = [], [], []
    errs = errors_of(results)
    for r in results:
        times = r.message_times
        if r.ok and len(times) != n_chunks:
            errs.append(f"{len(times)} of {n_chunks} message events")
        added += [later - earlier - delay for earlier, later in zip(times, times[1:], strict=False)]
        if len(times) > 1:
            slips.append(times[-1] - times[0] - (len(times) - 1) * delay)
        if r.first_message is not None:
            ttfe.append(r.first_message)
    peak = peak_overlap([(r.message_times[0], r.message_times[-1]) for r in results if r.ok])
    held = not errs and pct(added, 99) * 1000 < a.threshold_ms and peak >= level
    return [
        level,
        len(results) - len(errs),
        len(errs),
        peak,
        ms(pct(added, 50)),
        ms(pct(added, 99)),
        ms(max(added, default=math.nan)),
        ms(pct(slips, 99)),
        ms(pct(ttfe, 50)),
        ms(pct(ttfe, 99)),
        f"{kiln_cpu:.0f}%",
        f"{up_cpu:.0f}%",
        f"{me_cpu:.0f}%",
        f"{max(other_cpu, 0):.0f}%",
        upstream_requests,
        "yes" if held else "no",
        sorted(set(errs))[:3],
    ]


async def section_concurrency(b: Bench) -> str:
    a = b.args
    delay = 1 / a.rate
    n_chunks = max(2, round(a.rate * a.level_seconds))
    await b.configure(n_chunks=n_chunks, delay=delay)
    await b.kiln_streams(3, 3, 60 + n_chunks * delay * 3)  # warm-up
    rows, held, notes = [], 0, []
    print("\n".join(table(HEADERS_C, []).splitlines()), flush=True)
    for level in a.levels:
        row = await run_level(b, level, n_chunks, delay)
        *cells, errors = row
        rows.append(cells)
        print(table(HEADERS_C, [cells]).splitlines()[-1], flush=True)
        if errors:
            notes.append(f"level {level}: {errors}")
        if cells[-1] == "yes":
            held = level
        elif not a.no_stop:
            break
        await asyncio.sleep(1)
    b.results["held"] = held
    return (
        f"Each stream: {n_chunks} chunks at {a.rate:g} chunks/s ({delay * 1000:g} ms apart); "
        f"the streams of a level start spread over {a.ramp:g} s. *Added delay* = client-observed "
        f"gap between consecutive `message` events minus {delay * 1000:g} ms; *slip* = how much "
        f"longer a stream took than the upstream's schedule; *peak open* = most streams "
        f"between their first and last `message` event at one instant; CPU columns are % of "
        f"one core during the level (*other* = the rest of the machine: other processes, and "
        f"kernel network work charged to no process)."
        f"\n\n{table(HEADERS_C, rows)}\n\n"
        f"**Held: {held} concurrent streams** (highest level with p99 added delay < "
        f"{a.threshold_ms:g} ms, no errors, and all its streams open at once)"
        + ("\n\nErrors: " + "; ".join(notes) if notes else "")
    )


HEADERS_C = [
    "streams",
    "ok",
    "errors",
    "peak open",
    "added p50 ms",
    "added p99 ms",
    "added max ms",
    "slip p99 ms",
    "TTFE p50 ms",
    "TTFE p99 ms",
    "Kiln CPU",
    "upstream CPU",
    "client CPU",
    "other CPU",
    "upstream requests",
    "held",
]


# -- report ----------------------------------------------------------------------------------
def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, " + (
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit measured, marked ``+dirty`` when app/ has uncommitted changes."""

    def git(*argv: str) -> str:
        out = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, check=True)
        return out.stdout.decode().strip()

    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--", "app") else "")
    return "uncommitted"


def write_results(b: Bench, sections: list[tuple[str, str]], command: str, when: str) -> None:
    history: list[str] = []
    kept: list[str] = []
    if b.args.results.exists():
        old = b.args.results.read_text()
        for match in KEPT_BLOCK.finditer(old.split(HISTORY_MARK, 1)[0]):
            kept += [match.group(0), ""]
        if HISTORY_MARK in old:
            history = [ln for ln in old.split(HISTORY_MARK, 1)[1].splitlines() if ln.strip()][2:]
    cpu, ttfe = b.results.get("cpu"), b.results.get("ttfe")
    history.append(
        "| "
        + " | ".join(
            [
                when,
                revision(),
                f"{cpu['ratio']:.2f}x" if cpu else "-",
                f"{ttfe['p50_ms']:.1f} / {ttfe['p99_ms']:.1f}" if ttfe else "-",
                str(b.results["held"]) if "held" in b.results else "-",
                f"`{command}`",
            ]
        )
        + " |"
    )
    body = [
        "# Kiln stream benchmark: results",
        "",
        "Written by `bench/stream_bench.py` (see `bench/README.md`); the latest run replaces",
        "everything above *History*.",
        "",
        f"- Date: {when}",
        f"- Machine: {machine()}",
        f"- Revision: {revision()}",
        f"- Command: `{command}`",
        f"- Machine load just before the run: {b.results.get('idle_load', math.nan):.0f}% of "
        "one core (other processes; should be ~0)",
        "",
    ]
    for title, text in sections:
        body += [f"## {title}", "", text, ""]
    columns = ["date", "revision", "CPU ratio", "TTFE p50 / p99 ms", "streams held", "command"]
    body += kept + ["## History", "", HISTORY_MARK, "", table(columns, [])]
    b.args.results.write_text("\n".join(body + history) + "\n")


# -- main --------------------------------------------------------------------------------------
SECTIONS = {
    "a": ("(a) CPU per relayed chunk", section_cpu),
    "b": ("(b) Time to first event", section_ttfe),
    "c": ("(c) Concurrent streams held", section_concurrency),
}


async def run(args: argparse.Namespace, command: str) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="kiln-bench-"))
    b = Bench(args, tmp)
    sections: list[tuple[str, str]] = []
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        async with asyncio.timeout(args.max_seconds):
            busy0, t0 = busy_seconds(), time.perf_counter()
            await asyncio.sleep(2)
            b.results["idle_load"] = (busy_seconds() - busy0) / (time.perf_counter() - t0) * 100
            print(f"machine load before the run: {b.results['idle_load']:.0f}% of one core")
            await b.start_upstream()
            await b.start_kiln()
            print(f"upstream {b.upstream_url}, kiln http://127.0.0.1:{b.kiln_port}", flush=True)
            for key in args.sections:
                title, func = SECTIONS[key]
                print(f"\n## {title}\n", flush=True)
                text = await func(b)
                print(text, flush=True)
                sections.append((title, text))
    except TimeoutError:
        print(f"\nstopped: the run exceeded --max-seconds {args.max_seconds}", flush=True)
        sections.append(("Stopped", f"The run exceeded --max-seconds {args.max_seconds}."))
    finally:
        for proc in (b.kiln, b.upstream):
            if proc is not None:
                await stop_process(proc)
        if args.keep_tmp:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if sections and not args.no_write:
        write_results(b, sections, command, when)
        print(f"\nwrote {args.results.relative_to(ROOT)}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--sections", default="abc", help="which sections to run, e.g. 'ac' (default: abc)")
    add("--chunks", type=int, default=200, help="(a) chunks per stream")
    add("--delay", type=float, default=0.005, help="(a) seconds between upstream chunks")
    add("--streams", type=int, default=40, help="(a) streams through Kiln and the baseline")
    add("--concurrency", type=int, default=4, help="(a) streams at a time")
    add("--ttfe-requests", type=int, default=50, help="(b) sequential requests")
    add("--rate", type=float, default=20.0, help="(c) chunks per second per stream")
    add("--level-seconds", type=float, default=20.0, help="(c) length of each stream")
    add("--levels", default="50,100,200,400", help="(c) concurrency levels to ramp through")
    add("--ramp", type=float, default=1.0, help="(c) seconds over which a level's streams start")
    add("--threshold-ms", type=float, default=50.0, help="(c) p99 added delay to count as held")
    add("--no-stop", action="store_true", help="(c) go on after a level that is not held")
    add("--max-seconds", type=float, default=900.0, help="hard limit on the whole run")
    add("--results", type=Path, default=RESULTS, help="report file to write")
    add("--no-write", action="store_true", help="do not write the report file")
    add("--keep-tmp", action="store_true", help="keep the temporary database and Kiln's log")
    args = parser.parse_args(argv)
    args.levels = [int(level) for level in args.levels.split(",") if level.strip()]
    args.results = args.results.resolve()
    if unknown := set(args.sections) - set(SECTIONS):
        parser.error(f"unknown sections: {''.join(sorted(unknown))}")
    return args


def main() -> None:
    run_benchmark("bench.stream_bench", parse_args(), run)


if __name__ == "__main__":
    main()
