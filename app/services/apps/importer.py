"""Importing apps from DSL and issuing their API keys."""

from dataclasses import dataclass
from datetime import timedelta

from cachetools import TTLCache
from sqlmodel import col, select

from app.core.app_mode import AppMode
from app.core.db import session_scope
from app.core.security import derived_api_key, generate_api_key, hash_api_key, key_hint
from app.engine.workflow.engine import compile_workflow
from app.models import ApiToken, App
from app.models.base import utcnow
from app.services.apps.dsl import ParsedDsl, parse_dsl
from app.services.apps.knowledge_check import knowledge_problems
from app.services.apps.tool_check import tool_problems

KEY_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is a hint, not worth a write per call


@dataclass(frozen=True, slots=True)
class ImportedApp:
    app: App
    api_key: str | None  # None when an idempotent import found the app already there
    warnings: tuple[str, ...] = ()
    # What will not run and why: graph problems (a blocking one stops the whole app),
    # knowledge bases the integrations file does not map, tools the operator has not
    # configured.
    problems: tuple[str, ...] = ()


def graph_problems(parsed: ParsedDsl) -> tuple[str, ...]:
    """What will not run: the graph's problems, then unmapped knowledge bases (any mode)."""
    knowledge = knowledge_problems(parsed)
    if not AppMode(parsed.mode).is_graph:
        return knowledge
    compiled = compile_workflow(parsed.document["workflow"])
    return (
        tuple(
            ("the app cannot run: " if p.blocking else "fails when reached: ") + p.describe()
            for p in compiled.problems
        )
        + knowledge
    )


def _new_app(parsed: ParsedDsl, source_key: str | None) -> App:
    info = parsed.document["app"]
    return App(
        name=parsed.name,
        mode=parsed.mode,
        description=str(info.get("description") or ""),
        icon=info.get("icon"),
        icon_type=str(info.get("icon_type") or "emoji"),
        icon_background=info.get("icon_background") or "#FFFFFF",
        use_icon_as_answer_icon=bool(info.get("use_icon_as_answer_icon", False)),
        dsl_version=parsed.version,
        dsl=parsed.document,
        max_active_requests=info.get("max_active_requests"),
        source_key=source_key,
    )


async def import_app(
    text: str, *, source_key: str | None = None, key: str | None = None
) -> ImportedApp:
    """Parse, check and store an app with one API key; nothing is stored on error."""
    parsed = parse_dsl(text)
    async with session_scope() as session:
        if source_key is not None:
            existing = (await session.exec(select(App).where(App.source_key == source_key))).first()
            if existing is not None:
                problems = graph_problems(parsed) + await tool_problems(parsed)
                return ImportedApp(existing, None, parsed.warnings, problems)
        app = _new_app(parsed, source_key)
        session.add(app)
        await session.flush()
        api_key = key or generate_api_key()
        session.add(_token(app.id, api_key))
    problems = graph_problems(parsed) + await tool_problems(parsed)
    return ImportedApp(app, api_key, parsed.warnings, problems)


def bootstrap_key(secret_key: str, source_key: str) -> str:
    return derived_api_key(secret_key, source_key)


def _token(app_id: str, api_key: str) -> ApiToken:
    return ApiToken(app_id=app_id, token_hash=hash_api_key(api_key), token_hint=key_hint(api_key))


async def create_key(app_id: str) -> str:
    async with session_scope() as session:
        if await session.get(App, app_id) is None:
            raise LookupError(f"No app with id {app_id}")
        api_key = generate_api_key()
        session.add(_token(app_id, api_key))
    return api_key


async def list_apps() -> list[App]:
    async with session_scope() as session:
        return list((await session.exec(select(App).order_by(col(App.created_at)))).all())


# Key lookups sit on every request: cache them briefly (a revoked key lives on for at most
# this long, as with Dify's Redis-cached lookups).
_apps_by_key: TTLCache[str, App] = TTLCache(maxsize=4096, ttl=5)


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
