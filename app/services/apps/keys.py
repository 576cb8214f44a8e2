"""API keys: issue, list (hints only), revoke. The lookup every request makes is
app/services/apps/auth.py."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from app.core.db import session_scope
from app.core.security import generate_api_key, hash_api_key, key_hint
from app.models import ApiToken, App
from app.services.apps.lookup import find_app_in


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
