"""Test harness: a real Kiln server (uvicorn on loopback) over SQLite or PostgreSQL, with or
without Redis, chosen by KILN_TEST_DATABASE / KILN_TEST_REDIS_URL (see the Makefile).

KILN_TEST_DATABASE is `sqlite`, a PostgreSQL URL, or `pgvector`: a throw-away PostgreSQL
with the pgvector extension started for the run (tests/support/pgvector_server.py)."""

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.support.fake_upstream import FakeUpstream
from tests.support.pgvector_server import DATABASE, EmbeddedPostgres

TEST_DATABASE = os.environ.get("KILN_TEST_DATABASE", "sqlite")
TEST_REDIS_URL = os.environ.get("KILN_TEST_REDIS_URL") or None
_TMP = Path(tempfile.mkdtemp(prefix="kiln-test-"))
_SERVER_APPS: list[FastAPI] = []
_EMBEDDED: list[EmbeddedPostgres] = []


def _database_url() -> str:
    if TEST_DATABASE == "sqlite":
        return f"sqlite+aiosqlite:///{_TMP / 'kiln.db'}"
    if TEST_DATABASE == "pgvector":
        return _EMBEDDED[0].url(DATABASE)
    return TEST_DATABASE


def postgres_server() -> str:
    """The `user[:password]@host:port` part of the PostgreSQL URL under test (the machine's
    own server on SQLite runs)."""
    url = _database_url()
    if url.startswith("postgresql"):
        return url.split("://", 1)[1].rsplit("/", 1)[0]
    return "postgres@127.0.0.1:5432"


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DATABASE == "pgvector" and not _EMBEDDED:
        _EMBEDDED.append(EmbeddedPostgres())
        _EMBEDDED[0].start()
    # Settings are read once per process: fix the environment before anything imports them.
    os.environ["KILN_DATABASE_URL"] = _database_url()
    if TEST_REDIS_URL:
        os.environ["KILN_REDIS_URL"] = TEST_REDIS_URL
    else:
        os.environ.pop("KILN_REDIS_URL", None)
    # Stored files stay with this run (two passes run side by side; `make run` keeps data/).
    os.environ["KILN_STORAGE_PATH"] = str(_TMP / "storage")
    os.environ["KILN_OFFLINE_TOKEN_DELAY"] = "0.002"
    os.environ["KILN_LOG_LEVEL"] = "warning"
    os.environ["KILN_SHUTDOWN_GRACE_PERIOD"] = "5"
    # Schedule tests tick every few seconds: a sixth (seconds) cron field (test-only).
    os.environ["KILN_SCHEDULER_CRON_SECONDS"] = "true"
    for name in ("KILN_MODEL_OVERRIDE", "KILN_APP_MAX_ACTIVE_REQUESTS"):
        os.environ.pop(name, None)
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_API_BASE", "_BASE_URL")):
            os.environ.pop(name, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _EMBEDDED:
        _EMBEDDED.pop().stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _reset_database(url: str) -> None:
    from sqlalchemy import text

    from app.core.db import create_engine

    if url.startswith("sqlite"):
        Path(url.split(":///", 1)[1]).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def run_migrations(url: str, revision: str = "head", downgrade: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from app.core.config import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    if downgrade:
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    url = _database_url()
    await _reset_database(url)
    await asyncio.to_thread(run_migrations, url)
    if TEST_REDIS_URL:
        from redis.asyncio import Redis

        redis = Redis.from_url(TEST_REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
    yield url


@pytest.fixture(scope="session")
async def server(database: str) -> AsyncIterator[str]:
    """Kiln served by uvicorn on a loopback port, in the test event loop."""
    import uvicorn

    from app.main import create_app

    port = free_port()
    app = create_app()
    _SERVER_APPS.append(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv_server = uvicorn.Server(config)
    task = asyncio.create_task(uv_server.serve())
    while not uv_server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    uv_server.should_exit = True
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, timeout=15)


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http
    await settle_background_work()


async def settle_background_work(timeout: float = 10.0) -> None:
    """Let a test's detached work (generations, titles) end before the next test starts,
    so nothing it sends upstream lands in another test."""
    for app in _SERVER_APPS:
        runtime = getattr(app.state, "runtime", None)
        if runtime is not None and runtime.generations:
            await asyncio.wait(set(runtime.generations), timeout=timeout)


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[FakeUpstream]:
    with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
def upstream(upstream_server: FakeUpstream, monkeypatch: pytest.MonkeyPatch) -> FakeUpstream:
    """The fake OpenAI-compatible provider, reset, with Kiln's environment pointing at it."""
    upstream_server.reset()
    monkeypatch.setenv("OPENAI_BASE_URL", upstream_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key-123456")
    return upstream_server
