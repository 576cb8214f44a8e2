"""API keys: issue, list (hints only), revoke, and the lookup every request makes.

Lookups are cached briefly per process. Any change to an app or its keys is announced
(app/tasks/app_changes.py: Redis pub/sub when configured), and every replica drops what it
cached of that app at once; the short lifetime covers a change made where no announcement
can reach (a CLI without Redis)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import TTLCache
from sqlmodel import col, select

from app.core.db import session_scope
from app.core.security import generate_api_key, hash_api_key, key_hint
from app.models import ApiToken, App
from app.models.base import utcnow
from app.services.apps.lookup import find_app_in

KEY_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is a hint, not worth a write per call
CACHE_SECONDS = 1.0


def new_token(app_id: str, api_key: str) -> ApiToken:
    return ApiToken(app_id=app_id, token_hash=hash_api_key(api_key), token_hint=key_hint(api_key))


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None


async def create_key(ref: str) -> str:
    async with session_scope() as session:
        app = await find_app_in(session, ref)
        api_key = generate_api_key()
        session.add(new_token(app.id, api_key))
    return api_key


async def list_keys(ref: str) -> tuple[App, list[KeyInfo]]:
    async with session_scope() as session:
        app = await find_app_in(session, ref)
        statement = (
            select(ApiToken).where(ApiToken.app_id == app.id).order_by(col(ApiToken.created_at))
        )
        rows = (await session.exec(statement)).all()
    return app, [KeyInfo(r.id, r.token_hint, r.created_at, r.last_used_at) for r in rows]


class KeyNotFound(LookupError):
    pass


async def revoke_key(key_id: str) -> str:
    """Delete a key; returns its app's id (to announce the change)."""
    async with session_scope() as session:
        token = await session.get(ApiToken, key_id)
        if token is None:
            raise KeyNotFound(f"No API key with id {key_id!r}")
        app_id = token.app_id
        await session.delete(token)
    return app_id


async def list_apps() -> list[App]:
    async with session_scope() as session:
        return list((await session.exec(select(App).order_by(col(App.created_at)))).all())


_apps_by_key: TTLCache[str, App] = TTLCache(maxsize=4096, ttl=CACHE_SECONDS)


def forget_app(app_id: str | None) -> None:
    """Drop cached lookups of one app (None: of every app)."""
    if app_id is None:
        _apps_by_key.clear()
        return
    for digest, app in list(_apps_by_key.items()):
        if app.id == app_id:
            _apps_by_key.pop(digest, None)


async def app_for_key(api_key: str) -> App | None:
    digest = hash_api_key(api_key)
    cached = _apps_by_key.get(digest)
    if cached is not None:
        return cached
    app = await _lookup_key(digest)
    if app is not None:
        _apps_by_key[digest] = app
    return app


async def _lookup_key(digest: str) -> App | None:
    async with session_scope() as session:
        row = (
            await session.exec(
                select(App, ApiToken)
                .join(ApiToken, col(ApiToken.app_id) == col(App.id))
                .where(ApiToken.token_hash == digest, ApiToken.type == "app")
            )
        ).first()
        if row is None:
            return None
        app, token = row
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > KEY_TOUCH_INTERVAL:
            token.last_used_at = now
            session.add(token)
        return app
