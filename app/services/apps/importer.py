"""Importing apps from DSL and issuing their API keys."""

from dataclasses import dataclass

from sqlmodel import col, select

from app.core.db import session_scope
from app.core.security import derived_api_key, generate_api_key, hash_api_key, key_hint
from app.models import ApiToken, App
from app.services.apps.dsl import ParsedDsl, parse_dsl


@dataclass(frozen=True, slots=True)
class ImportedApp:
    app: App
    api_key: str | None  # None when an idempotent import found the app already there
    warnings: tuple[str, ...] = ()


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
                return ImportedApp(existing, None, parsed.warnings)
        app = _new_app(parsed, source_key)
        session.add(app)
        await session.flush()
        api_key = key or generate_api_key()
        session.add(_token(app.id, api_key))
    return ImportedApp(app, api_key, parsed.warnings)


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
