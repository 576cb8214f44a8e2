"""Load isolation: how fast Kiln answers reads while many streams start and run.

    .venv/bin/python -m bench.load_isolation_bench [--database sqlite | postgresql+asyncpg://…]
        [--redis redis://127.0.0.1:6379/N] [--levels 100,300] [--label before]

For each level N, N streaming chat generations start (spread over ``--ramp`` seconds)
against an upstream that streams slowly (``--rate`` chunks/s for ``--stream-seconds``),
while another process (bench/read_poller.py) sends ``--read-rate`` reads a second to
``GET /v1/conversations``, ``/v1/messages``, ``/v1/info`` and ``/v1/parameters``.
Reported: p50/p99/max of the reads when idle, while the streams start (until every stream
has its first event) and while they run; the streams' time to first event; Kiln's
connection pools (bench/pool_probe_server.py).

Everything runs on loopback: the fake OpenAI upstream (``tests.support.fake_upstream``) and
Kiln (``bench.pool_probe_server``: the app exactly as ``kiln serve`` runs it, plus a pool
figures route). The database is thrown away: a SQLite file in a temporary folder, or the
PostgreSQL database named by ``--database``, WHOSE ``public`` SCHEMA IS DROPPED AND
RECREATED; ``--redis`` names a Redis database that is FLUSHED. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.entry import run_benchmark
from bench.sse_client import StreamResult, classify_dify, stream
from bench.stream_bench import (
    busy_seconds,
    cpu_seconds,
    free_port,
    machine,
    ms,
    pct,
    read_line,
    revision,
    stop_process,
    table,
)

ROOT = Path(__file__).resolve().parents[1]
DSL = ROOT / "bench" / "bench-chat.yml"
RESULTS = ROOT / "bench" / "RESULTS.md"
PY = sys.executable
KILN = str(Path(sys.executable).with_name("kiln"))
READER_USER = "bench-reader"
START, END = "<!-- load-isolation:start -->", "<!-- load-isolation:end -->"
RUN_BLOCK = re.compile(r"<!-- run: (.*?) -->\n(.*?)<!-- run-end -->\n?", re.DOTALL)
SUMMARY_HEADERS = [
    "date",
    "revision",
    "label",
    "database",
    "streams",
    "list reads p50 / p99 / max ms while streams start",
    "list reads p99 ms while they run",
    "read errors",
    "TTFE p50 / p99 ms",
    "stream errors",
    "event-loop lag p99 ms",
    "pool: peak out / queued / timeouts",
]


@dataclass
class Bench:
    args: argparse.Namespace
    tmp: Path
    upstream: asyncio.subprocess.Process | None = None
    upstream_url: str = ""
    kiln: asyncio.subprocess.Process | None = None
    port: int = 0
    api_key: str = ""
    conversation_id: str = ""
    app_root: Path = ROOT  # the source tree Kiln runs from (--app-commit: an older one)
    idle_load: float = math.nan

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        if self.args.database == "sqlite":
            return f"sqlite+aiosqlite:///{self.tmp / 'kiln.db'}"
        return str(self.args.database)

    def kiln_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("KILN_REDIS_URL",)}
        env |= {
            "KILN_DATABASE_URL": self.database_url,
            "KILN_MODEL_OVERRIDE": "openai/gpt-4o-mini",
            "OPENAI_BASE_URL": self.upstream_url,
            "OPENAI_API_KEY": "sk-bench",
            "KILN_LOG_LEVEL": "warning",
        }
        if self.args.redis:
            env["KILN_REDIS_URL"] = self.args.redis
        if self.app_root != ROOT:
            env["PYTHONPATH"] = str(self.app_root)
        return env | dict(self.args.set)

    def extract_app(self) -> None:
        """--app-commit: Kiln's tree at that commit, to measure it under today's conditions."""
        if not self.args.app_commit:
            return
        self.app_root = self.tmp / "app-tree"
        self.app_root.mkdir()
        archive = subprocess.run(
            ["git", "archive", self.args.app_commit], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(self.app_root)], input=archive.stdout, check=True)

    # -- set-up ------------------------------------------------------------------------
    async def reset_stores(self) -> None:
        if self.args.database != "sqlite":
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.pool import NullPool

            from app.core.config import normalize_database_url

            url = normalize_database_url(self.database_url)
            engine = create_async_engine(url, poolclass=NullPool)
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
            await engine.dispose()
        if self.args.redis:
            from redis.asyncio import Redis

            redis = Redis.from_url(self.args.redis)
            await redis.flushdb()
            await redis.aclose()

    async def start_upstream(self) -> None:
        self.upstream = await asyncio.create_subprocess_exec(
            PY, "-m", "tests.support.fake_upstream", "--port", "0", cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        line = await read_line(self.upstream, 30)
        if not line.startswith("READY "):
            raise RuntimeError(f"fake upstream said {line!r}")
        self.upstream_url = line.split()[1]

    async def kiln_command(self, *argv: str) -> str:
        cli = [PY, "-c", "import sys; from app.cli import main; sys.exit(main())"]
        proc = await asyncio.create_subprocess_exec(
            *cli, *argv, cwd=self.app_root, env=self.kiln_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        if proc.returncode != 0:
            raise RuntimeError(f"kiln {' '.join(argv)} failed:\n{err.decode()[-2000:]}")
        return out.decode()

    async def start_kiln(self) -> None:
        await self.kiln_command("migrate")
        out = await self.kiln_command("apps", "import", str(DSL), "--json")
        self.api_key = json.loads(out.strip().splitlines()[-1])["api_key"]
        self.port = free_port()
        log = (self.tmp / "kiln.log").open("wb")
        probe = str(ROOT / "bench" / "pool_probe_server.py")  # a script: `app` from app_root
        self.kiln = await asyncio.create_subprocess_exec(
            PY, probe, "--host", "127.0.0.1", "--port", str(self.port),
            cwd=self.app_root, env=self.kiln_env(), stdout=log, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.kiln.returncode is not None:
                    break
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.base}/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        tail = (self.tmp / "kiln.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"Kiln did not come up:\n{tail}")

    async def configure(self, **behaviour: Any) -> None:
        base = self.upstream_url.removesuffix("/v1")
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{base}/_control/behaviour", json={"reset": True} | behaviour
            )
            answer.raise_for_status()

    async def seed_reader(self) -> None:
        """The polling client's user: a page of conversations, one with a page of messages."""
        await self.configure(n_chunks=5, delay=0.0)
        headers = {"authorization": f"Bearer {self.api_key}"}
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=60) as c:

            async def chat(query: str, conversation_id: str = "") -> str:
                body = {
                    "inputs": {},
                    "query": query,
                    "response_mode": "blocking",
                    "user": READER_USER,
                    "conversation_id": conversation_id,
                    "auto_generate_name": False,
                }
                answer = await c.post("/v1/chat-messages", json=body)
                answer.raise_for_status()
                return str(answer.json()["conversation_id"])

            for index in range(self.args.seed_conversations):
                self.conversation_id = await chat(f"seed conversation {index}")
            for index in range(self.args.seed_messages - 1):
                await chat(f"seed message {index}", self.conversation_id)

    async def pool(self, action: str = "") -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            if action == "reset":
                (await client.post("/_bench/pool/reset")).raise_for_status()
                return {}
            answer = await client.get("/_bench/pool")
            answer.raise_for_status()
            return dict(answer.json())

    # -- one level -----------------------------------------------------------------------
    async def kiln_stream(self, user: str, timeout: float) -> StreamResult:
        body = {"inputs": {}, "query": "hi", "response_mode": "streaming", "user": user}
        return await stream(
            "127.0.0.1", self.port, "/v1/chat-messages", orjson.dumps(body), classify_dify,
            {"authorization": f"Bearer {self.api_key}"}, timeout,
        )  # fmt: skip

    async def start_poller(self) -> asyncio.subprocess.Process:
        a = self.args
        poller = await asyncio.create_subprocess_exec(
            PY, "-m", "bench.read_poller", "--base", self.base, "--key", self.api_key,
            "--user", READER_USER, "--conversation-id", self.conversation_id,
            "--rate", str(a.read_rate),
            cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )  # fmt: skip
        line = await read_line(poller, 60)
        if line != "READY":
            await stop_process(poller)
            raise RuntimeError(f"read poller said {line[:500]!r}")
        return poller

    async def run_level(self, level: int) -> dict[str, Any]:
        a = self.args
        delay = 1 / a.rate
        n_chunks = max(2, round(a.rate * a.stream_seconds))
        await self.configure(n_chunks=n_chunks, delay=delay)
        timeout = n_chunks * delay * 3 + a.ramp + 120
        assert self.kiln is not None
        poller = await self.start_poller()
        try:
            await self.pool("reset")
            await asyncio.sleep(a.idle_seconds)
            cpu0, busy0, t0 = cpu_seconds(self.kiln.pid), busy_seconds(), time.perf_counter()

            async def one(index: int) -> StreamResult:
                await asyncio.sleep(a.ramp * index / level)
                return await self.kiln_stream(f"bench-{level}-{index}", timeout)

            results = list(await asyncio.gather(*(one(i) for i in range(level))))
            t_end = time.perf_counter()
            kiln_cpu = (cpu_seconds(self.kiln.pid) - cpu0) / (t_end - t0) * 100
            machine_cpu = (busy_seconds() - busy0) / (t_end - t0) * 100
            figures = await self.pool()
            assert poller.stdin is not None
            poller.stdin.write(b"stop\n")
            await poller.stdin.drain()
            samples = orjson.loads(await read_line(poller, 120))
        finally:
            await stop_process(poller)
        firsts = [r.message_times[0] for r in results if r.message_times]
        all_started = max(firsts) if firsts else t_end
        return {
            "level": level,
            "results": results,
            "samples": samples,
            "t0": t0,
            "all_started": all_started,
            "t_end": t_end,
            "pools": figures["pools"],
            "loop": figures["loop"],
            "kiln_cpu": kiln_cpu,
            "machine_cpu": machine_cpu,
            "n_chunks": n_chunks,
        }


# -- figures ---------------------------------------------------------------------------------
ENDPOINTS = ("conversations", "messages", "info", "parameters")
LIST_ENDPOINTS = ("conversations", "messages")


def phase_of(sent: float, level: dict[str, Any]) -> str:
    if sent < level["t0"]:
        return "idle"
    if sent < level["all_started"]:
        return "start-up"
    if sent < level["t_end"]:
        return "running"
    return "after"


def reads(level: dict[str, Any], phase: str, endpoints: tuple[str, ...]) -> list[float]:
    return [
        seconds
        for sent, name, status, seconds in level["samples"]
        if name in endpoints and status == 200 and phase_of(sent, level) == phase
    ]


def read_errors(level: dict[str, Any], endpoints: tuple[str, ...]) -> list[str]:
    return [
        f"{name}: {status or 'timeout/connection'}"
        for sent, name, status, _ in level["samples"]
        if name in endpoints and status != 200 and phase_of(sent, level) != "after"
    ]


def stream_errors(level: dict[str, Any]) -> list[str]:
    errs = [r.error or f"status {r.status}" for r in level["results"] if not r.ok]
    n = level["n_chunks"]
    errs += [f"{len(r.message_times)} of {n} events" for r in level["results"] if r.ok and len(
        r.message_times) != n]  # fmt: skip
    return errs


def ttfe(level: dict[str, Any]) -> list[float]:
    return [r.first_message for r in level["results"] if r.first_message is not None]


def p3(values: list[float]) -> str:
    return f"{ms(pct(values, 50))} / {ms(pct(values, 99))} / {ms(max(values, default=math.nan))}"


def level_report(level: dict[str, Any]) -> str:
    n = level["level"]
    rows = []
    for name in ENDPOINTS:
        idle = reads(level, "idle", (name,))
        start = reads(level, "start-up", (name,))
        running = reads(level, "running", (name,))
        rows.append(
            [
                f"`GET /v1/{name}`",
                f"{ms(pct(idle, 50))} / {ms(pct(idle, 99))}",
                len(start),
                p3(start),
                len(running),
                p3(running),
                len(read_errors(level, (name,))),
            ]
        )
    read_headers = [
        "read",
        "idle p50 / p99 ms",
        "n",
        "while starting p50 / p99 / max ms",
        "n",
        "while running p50 / p99 / max ms",
        "errors",
    ]
    times = ttfe(level)
    errs = stream_errors(level)
    stream_rows = [
        [
            n,
            len(level["results"]) - len(errs),
            len(errs),
            p3(times),
            f"{level['all_started'] - level['t0']:.1f}",
            f"{level['t_end'] - level['t0']:.1f}",
            f"{level['loop']['p50_ms']} / {level['loop']['p99_ms']} / {level['loop']['max_ms']}",
            f"{level['kiln_cpu']:.0f}%",
            f"{level['machine_cpu']:.0f}%",
        ]
    ]
    stream_headers = [
        "streams",
        "ok",
        "errors",
        "TTFE p50 / p99 / max ms",
        "all started after s",
        "all ended after s",
        "event-loop lag p50 / p99 / max ms",
        "Kiln CPU",
        "machine CPU",
    ]
    pool_rows = [
        [
            p["name"],
            f"{p['size']} + {p['max_overflow']}",
            p["checkouts"],
            p["peak_checked_out"],
            p["peak_overflow"],
            p["queued"],
            p["timeouts"],
            f"{p['checkout_p50_ms']} / {p['checkout_p99_ms']} / {p['checkout_max_ms']}",
            f"{p['hold_p50_ms']} / {p['hold_p99_ms']} / {p['hold_max_ms']}",
        ]
        for p in level["pools"]
    ]
    pool_headers = [
        "pool",
        "size + overflow",
        "checkouts",
        "peak out",
        "peak overflow",
        "queued",
        "timeouts",
        "checkout p50 / p99 / max ms",
        "held p50 / p99 / max ms",
    ]
    notes = sorted(set(read_errors(level, ENDPOINTS)))[:5] + sorted(set(errs))[:5]
    return (
        f"**{n} streams**\n\n{table(read_headers, rows)}\n\n"
        f"{table(stream_headers, stream_rows)}\n\n{table(pool_headers, pool_rows)}"
        + (f"\n\nErrors: {notes}" if notes else "")
    )


def summary_row(b: Bench, level: dict[str, Any], when: str) -> list[str]:
    start = reads(level, "start-up", LIST_ENDPOINTS)
    running = reads(level, "running", LIST_ENDPOINTS)
    times = ttfe(level)
    pools = level["pools"]
    peak = " + ".join(str(p["peak_checked_out"]) for p in pools) or "-"
    queued = sum(p["queued"] for p in pools)
    timeouts = sum(p["timeouts"] for p in pools)
    return [
        when,
        b.args.app_commit or revision(),
        b.args.label or "-",
        database_label(b.args),
        str(level["level"]),
        p3(start),
        ms(pct(running, 99)),
        str(len(read_errors(level, ENDPOINTS))),
        f"{ms(pct(times, 50))} / {ms(pct(times, 99))}",
        str(len(stream_errors(level))),
        str(level["loop"]["p99_ms"]),
        f"{peak} / {queued} / {timeouts}",
    ]


def database_label(args: argparse.Namespace) -> str:
    name = "SQLite" if args.database == "sqlite" else "PostgreSQL"
    return name + (" + Redis" if args.redis else "")


def kiln_settings(args: argparse.Namespace) -> str:
    """KILN_ settings the run passed to Kiln beyond the bench's own."""
    own = {"KILN_DATABASE_URL", "KILN_REDIS_URL", "KILN_MODEL_OVERRIDE", "KILN_LOG_LEVEL"}
    chosen = {k: v for k, v in os.environ.items() if k.startswith("KILN_") and k not in own}
    chosen |= dict(args.set)
    return ", ".join(f"`{k}={v}`" for k, v in sorted(chosen.items())) or "defaults"


# -- RESULTS.md --------------------------------------------------------------------------------
INTRO = """## Load isolation

Written by `bench/load_isolation_bench.py` (see `bench/README.md`): N streaming chat
generations start within the ramp against an upstream streaming slowly, while a separate
client sends a fixed number of reads a second (open loop) to `GET /v1/conversations`,
`/v1/messages` (*list reads*), `/v1/info` and `/v1/parameters`. *While streams start* =
reads sent before every stream had its first event; *while they run* = after that until
the last stream ended. Pool figures: *peak out* = most connections checked out at once
(per pool), *queued* = checkouts that found the pool and its overflow all taken, *held* =
how long a connection stayed checked out. Each run adds a row to the summary; the detail
of the latest run per label and database is kept below."""


def write_results(path: Path, rows: list[list[str]], key: str, detail: str) -> None:
    text = path.read_text() if path.exists() else ""
    old_rows: list[str] = []
    runs: dict[str, str] = {}
    if START in text and END in text:
        head, rest = text.split(START, 1)
        block, tail = rest.split(END, 1)
        summary = block.split("<!-- run: ", 1)[0]
        old_rows = [ln for ln in summary.splitlines() if ln.startswith("| ")][1:]
        runs = {m.group(1): m.group(2) for m in RUN_BLOCK.finditer(block)}
    elif "## History" in text:
        head, tail = text.split("## History", 1)
        tail = "\n\n## History" + tail
    else:
        head, tail = text + "\n", "\n"
    runs[key] = detail.rstrip() + "\n"
    new_rows = ["| " + " | ".join(row) + " |" for row in rows]
    header = table(SUMMARY_HEADERS, [])
    parts = [START, INTRO, "", header, *old_rows, *new_rows, ""]
    for run_key, run_text in runs.items():
        parts += [f"<!-- run: {run_key} -->", run_text.rstrip(), "<!-- run-end -->", ""]
    parts.append(END)
    path.write_text(head + "\n".join(parts) + tail)


# -- main ----------------------------------------------------------------------------------------
async def run(args: argparse.Namespace, command: str) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="kiln-load-bench-"))
    b = Bench(args, tmp)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    details: list[str] = []
    rows: list[list[str]] = []
    try:
        async with asyncio.timeout(args.max_seconds):
            b.extract_app()
            busy0, t0 = busy_seconds(), time.perf_counter()
            await asyncio.sleep(2)
            b.idle_load = (busy_seconds() - busy0) / (time.perf_counter() - t0) * 100
            print(f"machine load before the run: {b.idle_load:.0f}% of one core", flush=True)
            await b.reset_stores()
            await b.start_upstream()
            await b.start_kiln()
            await b.seed_reader()
            print(f"upstream {b.upstream_url}, kiln {b.base}, {database_label(args)}", flush=True)
            await b.configure(n_chunks=5, delay=0.01)
            await asyncio.gather(*(b.kiln_stream(f"bench-warm-{i}", 60) for i in range(5)))
            for level_n in args.levels:
                await asyncio.sleep(args.settle_seconds)  # titles of the last level, etc.
                level = await b.run_level(level_n)
                text = level_report(level)
                print("\n" + text, flush=True)
                details.append(text)
                rows.append(summary_row(b, level, when))
    except TimeoutError:
        print(f"\nstopped: the run exceeded --max-seconds {args.max_seconds}", flush=True)
        details.append(f"Stopped: the run exceeded --max-seconds {args.max_seconds}.")
    finally:
        for proc in (b.kiln, b.upstream):
            if proc is not None:
                await stop_process(proc)
        if args.keep_tmp:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    a = args
    rev = f"Kiln at {a.app_commit} (bench at {revision()})" if a.app_commit else revision()
    head = (
        f"### {a.label or 'run'}: {database_label(a)} ({when}, revision {rev})\n\n"
        f"- Command: `{command}`\n- Machine: {machine()}; load just before the run: "
        f"{b.idle_load:.0f}% of one core (other processes)\n"
        f"- Kiln settings: {kiln_settings(a)}\n"
        f"- Streams: {a.rate:g} chunks/s for {a.stream_seconds:g} s each, started over "
        f"{a.ramp:g} s; reads: {a.read_rate:g} a second (open loop)\n\n"
    )
    detail = head + "\n\n".join(details)
    if details and not args.no_write:
        key = f"{a.label or 'run'} / {database_label(a)}"
        write_results(args.results, rows, key, detail)
        print(f"\nwrote {args.results.relative_to(ROOT)}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--database", default="sqlite", help="'sqlite' (a temporary file) or a PostgreSQL URL "
        "whose public schema is DROPPED and recreated")  # fmt: skip
    add("--redis", default="", help="Redis URL for Kiln (the database is FLUSHED); none if unset")
    add("--levels", default="100,300", help="numbers of streams, one level after another")
    add("--rate", type=float, default=20.0, help="chunks per second per stream")
    add("--stream-seconds", type=float, default=10.0, help="length of each stream")
    add("--ramp", type=float, default=1.0, help="seconds over which a level's streams start")
    add("--read-rate", type=float, default=20.0, help="reads per second (open loop)")
    add("--idle-seconds", type=float, default=3.0, help="reads timed before the streams start")
    add("--settle-seconds", type=float, default=3.0, help="pause before each level")
    add("--seed-conversations", type=int, default=20, help="the reader's conversations")
    add("--seed-messages", type=int, default=20, help="messages in the reader's conversation")
    add("--label", default="", help="names the run in RESULTS.md (e.g. before, after)")
    add("--app-commit", default="", help="run Kiln from this commit's tree (git archive), "
        "to compare it with the current one under the same conditions")  # fmt: skip
    add("--set", action="append", default=[], metavar="KILN_NAME=VALUE",
        help="a Kiln setting for this run (repeatable)")  # fmt: skip
    add("--max-seconds", type=float, default=900.0, help="hard limit on the whole run")
    add("--results", type=Path, default=RESULTS, help="report file to write")
    add("--no-write", action="store_true", help="do not write the report file")
    add("--keep-tmp", action="store_true", help="keep the temporary folder and Kiln's log")
    args = parser.parse_args(argv)
    args.levels = [int(level) for level in args.levels.split(",") if level.strip()]
    args.results = args.results.resolve()
    try:
        args.set = [tuple(item.split("=", 1)) for item in args.set]
    except ValueError:
        parser.error("--set takes NAME=VALUE")
    if any(len(pair) != 2 or not pair[0].startswith("KILN_") for pair in args.set):
        parser.error("--set takes KILN_NAME=VALUE")
    if args.database != "sqlite" and not args.database.startswith("postgresql"):
        parser.error("--database is 'sqlite' or a postgresql URL")
    return args


def main() -> None:
    run_benchmark("bench.load_isolation_bench", parse_args(), run)


if __name__ == "__main__":
    main()
