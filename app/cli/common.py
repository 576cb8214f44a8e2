"""What every `kiln` command shares: running a coroutine against the database with
one-line answers for the usual faults, and announcing app changes to running replicas."""

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from app.core.config import get_settings


class CliError(Exception):
    """A one-line answer for the operator instead of a traceback."""


def _database_fault(exc: Exception) -> str | None:
    """What a database error means for someone at the command line, when it is common."""
    text = str(exc).lower()
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return "the database has no Kiln tables yet: run `kiln migrate` first"
    if "connection refused" in text or "could not connect" in text or "unable to open" in text:
        return f"cannot reach the database ({get_settings().database_url.split('://')[0]})"
    return None


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    from sqlalchemy.exc import DBAPIError

    from app.core.db import dispose_engine

    async def main() -> Any:
        try:
            return await coro
        finally:
            await dispose_engine()

    try:
        return asyncio.run(main())
    except (DBAPIError, OSError) as exc:
        fault = _database_fault(exc)
        if fault is None:
            raise
        raise CliError(fault) from None


async def announce(*app_ids: str) -> None:
    """Tell running replicas these apps changed (Redis pub/sub when configured; without
    Redis a single server sees the change within its one-second key cache)."""
    url = get_settings().redis_url
    if not url:
        return
    from redis.asyncio import Redis

    from app.tasks.app_changes import RedisAppChanges

    redis = Redis.from_url(url)
    try:
        changes = RedisAppChanges(redis)
        for app_id in app_ids:
            await changes.publish(app_id)
    finally:
        await redis.aclose()


def error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def print_problems(warnings: tuple[str, ...], problems: tuple[str, ...], indent: str = "") -> None:
    for warning in warnings:
        print(f"{indent}warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"{indent}will not run: {problem}", file=sys.stderr)
