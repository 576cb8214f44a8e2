"""Async database engines and sessions (SQLite via aiosqlite, PostgreSQL via asyncpg).

Two connection pools, sized from settings (measured: *Load isolation* in bench/RESULTS.md):

- the main pool, for units of work that write and for everything a generation does
  (`session_scope`);
- the read pool, for requests that only read (`read_scope`: lists, details, API keys), so
  they never queue behind a burst of stream start-ups on the main pool.

A session holds its connection only from its first query to its end. Read-only units run
without a transaction: autocommit on PostgreSQL (no BEGIN/COMMIT round trips; READ
COMMITTED gives each statement its own snapshot either way), none on SQLite, so they never
take or wait for its write lock (WAL readers do not block). SQLite's writes take turns in
the process. A request that waits longer than KILN_DATABASE_POOL_TIMEOUT for a connection
(KILN_SQLITE_BUSY_TIMEOUT for its turn to write) is answered 503; background units wait.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings, get_settings
from app.core.errors import ServiceUnavailable

logger = logging.getLogger("kiln.db")

# Execution option marking a read-only unit: no transaction, hence no write lock on SQLite.
READ_ONLY = "kiln_read_only"
_CHECKED_IN_AT = "kiln_checked_in_at"


def _sqlite_on_connect(busy_timeout: float, read_pool: bool) -> Any:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers proceed while a stream writes; busy_timeout rides out another
        # process's write lock; synchronous=NORMAL is durable in WAL mode except against
        # power loss.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if read_pool:
            cursor.execute("PRAGMA query_only=ON")  # a write through the read pool fails
        cursor.close()
        # SQLite's own lower() folds ASCII only; case-insensitive search must fold "Ä" too,
        # as PostgreSQL's lower() does under a UTF-8 locale.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin).
        dbapi_connection.isolation_level = None

    return connect


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        return  # autocommit reads: each statement alone, never holding the write lock
    # A deferred transaction that reads and then writes can fail at once with "database is
    # locked" (SQLite will not wait on a lock upgrade); taking the write lock up front waits.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _ping_if_idle(ping_after: float) -> Any:
    """A checkout listener: ping a connection that sat idle in the pool for `ping_after`
    seconds (0: every checkout). SQLAlchemy's own pre-ping costs three round trips
    (BEGIN, ping, ROLLBACK) on every checkout; a busy pool's connections are seconds old."""

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN_AT)
        if checked_in is None or time.monotonic() - checked_in < ping_after:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError() from exc  # the pool replaces it and retries

    return checkout


def _stamp_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_CHECKED_IN_AT] = time.monotonic()


def create_engine(
    url: str, *, read_pool: bool = False, settings: Settings | None = None
) -> AsyncEngine:
    """The main pool's engine, or with `read_pool` the read pool's (read-only sessions;
    writes through it are refused by the database)."""
    settings = settings or get_settings()
    if read_pool:
        size, overflow = settings.database_read_pool_size, settings.database_read_max_overflow
    else:
        size, overflow = settings.database_pool_size, settings.database_max_overflow
    pool: dict[str, Any] = {
        "pool_size": size,
        "max_overflow": overflow,
        "pool_timeout": settings.database_pool_timeout,
        "pool_logging_name": "read" if read_pool else "main",
    }
    if read_pool:
        # Nothing to roll back on return: read-pool connections never open a transaction
        # (and on SQLite that rollback would be one more trip through a worker thread).
        pool["pool_reset_on_return"] = None
    if url.startswith("sqlite"):
        busy_timeout = settings.sqlite_busy_timeout
        engine = create_async_engine(
            url,
            connect_args={"timeout": busy_timeout},
            execution_options={READ_ONLY: True} if read_pool else {},
            **pool,
        )
        on_connect = _sqlite_on_connect(busy_timeout, read_pool)
        event.listen(engine.sync_engine, "connect", on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    if read_pool:
        engine = create_async_engine(
            url,
            isolation_level="AUTOCOMMIT",
            connect_args={"server_settings": {"default_transaction_read_only": "on"}},
            execution_options={READ_ONLY: True},
            **pool,
        )
    else:
        engine = create_async_engine(url, **pool)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle(settings.database_ping_after))
    event.listen(engine.sync_engine.pool, "checkin", _stamp_checkin)
    return engine


@dataclass(slots=True)
class _Database:
    main: AsyncEngine
    read: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]  # main pool, read-write
    main_reads: async_sessionmaker[AsyncSession]  # main pool, read-only
    reads: async_sessionmaker[AsyncSession]  # read pool
    # SQLite has one writer: read-write units take turns here (first come, first served)
    # rather than holding a pooled connection while SQLite's busy handler polls its lock.
    writer: asyncio.Lock | None


_db: _Database | None = None


def _read_only_options(engine: AsyncEngine) -> dict[str, Any]:
    if engine.dialect.name == "sqlite":
        return {READ_ONLY: True}
    return {"isolation_level": "AUTOCOMMIT", READ_ONLY: True}


def _database() -> _Database:
    global _db
    if _db is None:
        url = get_settings().database_url
        main, read = create_engine(url), create_engine(url, read_pool=True)

        def maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
            return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

        main_reads = main.execution_options(**_read_only_options(main))
        writer = asyncio.Lock() if main.dialect.name == "sqlite" else None
        _db = _Database(main, read, maker(main), maker(main_reads), maker(read), writer)
    return _db


def get_engine() -> AsyncEngine:
    """The main pool's engine."""
    return _database().main


def get_read_engine() -> AsyncEngine:
    """The read pool's engine (read-only)."""
    return _database().read


async def dispose_engine() -> None:
    global _db
    if _db is not None:
        await _db.main.dispose()
        await _db.read.dispose()
    _db = None


def _locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)  # SQLite's busy timeout ran out


@asynccontextmanager
async def _turn(writer: asyncio.Lock | None, background: bool) -> AsyncIterator[None]:
    if writer is None:
        yield
        return
    if background:
        await writer.acquire()
    else:
        try:
            async with asyncio.timeout(get_settings().sqlite_busy_timeout):
                await writer.acquire()
        except TimeoutError:
            logger.warning("no turn to write to SQLite within KILN_SQLITE_BUSY_TIMEOUT")
            raise ServiceUnavailable() from None
    try:
        yield
    finally:
        writer.release()


async def _connected(maker: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session holding its connection already, however long that takes."""
    while True:
        session = maker()
        try:
            await session.connection()
            return session
        except (PoolTimeout, OperationalError) as exc:
            await session.close()
            if isinstance(exc, OperationalError) and not _locked(exc):
                raise
            logger.warning("background database work still waiting: %s", exc)


@asynccontextmanager
async def _scope(
    maker: async_sessionmaker[AsyncSession],
    writer: asyncio.Lock | None = None,
    background: bool = False,
) -> AsyncIterator[AsyncSession]:
    try:
        async with _turn(writer, background):
            session = await _connected(maker) if background else maker()
            async with session:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
    except PoolTimeout as exc:
        logger.warning("no database connection within the pool timeout: %s", exc)
        raise ServiceUnavailable() from None
    except OperationalError as exc:
        if not _locked(exc):
            raise
        logger.warning("SQLite stayed locked by another process for KILN_SQLITE_BUSY_TIMEOUT")
        raise ServiceUnavailable() from None


def session_scope(
    *, read_only: bool = False, background: bool = False
) -> AbstractAsyncContextManager[AsyncSession]:
    """A short unit of work on the main pool: commit on success, roll back on error.
    `read_only`: the unit only reads (no transaction, no write lock on SQLite).
    `background`: no client waits on it (a generation's result, a title): it waits for a
    connection (and on SQLite its turn to write) as long as it takes instead of giving up
    with a 503 after the pool timeout, so a burst of load never loses a finished answer.
    Read-write units must not nest (on SQLite the inner one could never get its turn)."""
    database = _database()
    if read_only:
        return _scope(database.main_reads, None, background)
    return _scope(database.sessions, database.writer, background)


def read_scope() -> AbstractAsyncContextManager[AsyncSession]:
    """A read-only unit on the read pool, for requests that only read."""
    return _scope(_database().reads)


# The largest OFFSET both SQLite and PostgreSQL take (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1


def page_offset(page: int, size: int) -> int:
    """Rows before a 1-based page; a page past any table reads as empty, never overflows."""
    return min((page - 1) * size, MAX_OFFSET)


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (its result's rowcount; 0 if unknown)."""
    return int(getattr(result, "rowcount", 0) or 0)
