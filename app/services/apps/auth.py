"""The app an API key belongs to, looked up on every request: briefly cached per process,
one database lookup per key at a time, on the read pool; `last_used_at` is written in the
background at most once a minute per key and process, off the request path.

Any change to an app or its keys is announced (app/tasks/app_changes.py: Redis pub/sub when
configured) and every replica drops what it cached of that app at once (`forget_app`); the
cache's short lifetime covers a change no announcement reaches (a CLI without Redis)."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from cachetools import TTLCache
from sqlmodel import col, or_, select, update

from app.core.config import get_settings
from app.core.db import read_scope, session_scope
from app.core.security import hash_api_key
from app.core.single_flight import SingleFlight
from app.models import ApiToken, App
from app.models.base import utcnow

logger = logging.getLogger("kiln.auth")

KEY_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is a hint, not worth a write per call


@dataclass(frozen=True, slots=True)
class _Key:
    app: App
    token_id: str


# Without an announcement, a changed app row or a removed key shows after at most
# KILN_API_KEY_CACHE_TTL seconds (Dify caches its key lookups in Redis the same way).
_cache: TTLCache[str, _Key] | None = None
_lookups: SingleFlight[str, _Key | None] = SingleFlight()
# Tokens this process touched within the interval; the entry expiring allows the next.
_touched: TTLCache[str, bool] = TTLCache(maxsize=4096, ttl=KEY_TOUCH_INTERVAL.total_seconds())
_touches: set[asyncio.Task[None]] = set()


def _key_cache() -> TTLCache[str, _Key] | None:
    global _cache
    ttl = get_settings().api_key_cache_ttl
    if ttl <= 0:
        return None
    if _cache is None:
        _cache = TTLCache(maxsize=4096, ttl=ttl)
    return _cache


def forget_app(app_id: str | None) -> None:
    """Drop cached lookups of one app (None: of every app)."""
    if _cache is None:
        return
    if app_id is None:
        _cache.clear()
        return
    for digest, key in list(_cache.items()):
        if key.app.id == app_id:
            _cache.pop(digest, None)


async def app_for_key(api_key: str) -> App | None:
    digest = hash_api_key(api_key)
    cache = _key_cache()
    found = cache.get(digest) if cache is not None else None
    if found is None:
        found = await _lookups.run(digest, lambda: _lookup(digest))
        if found is None:
            return None
        if cache is not None:
            cache[digest] = found
    _touch_later(found.token_id)
    return found.app


async def _lookup(digest: str) -> _Key | None:
    async with read_scope() as session:
        row = (
            await session.exec(
                select(App, ApiToken.id)
                .join(ApiToken, col(ApiToken.app_id) == col(App.id))
                .where(ApiToken.token_hash == digest, ApiToken.type == "app")
            )
        ).first()
    return None if row is None else _Key(row[0], row[1])


def _touch_later(token_id: str) -> None:
    if token_id in _touched:
        return
    _touched[token_id] = True
    task = asyncio.create_task(_touch(token_id), name="kiln-key-touch")
    _touches.add(task)
    task.add_done_callback(_touches.discard)


async def _touch(token_id: str) -> None:
    now = utcnow()
    stale = now - KEY_TOUCH_INTERVAL
    try:
        async with session_scope() as session:
            await session.exec(
                update(ApiToken)
                .where(
                    col(ApiToken.id) == token_id,
                    or_(col(ApiToken.last_used_at).is_(None), col(ApiToken.last_used_at) < stale),
                )
                .values(last_used_at=now)
            )
    except Exception:  # a hint only: never fail or slow a request over it
        _touched.pop(token_id, None)
        logger.warning("could not record the use of API key %s", token_id, exc_info=True)
