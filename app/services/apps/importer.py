"""Importing apps from DSL: a new app, or a new version of an existing one (in place: its
keys, conversations, annotations and end users stay). Every import is kept as a version;
the app row carries the current one, and both change in one transaction."""

import hashlib
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.app_mode import AppMode
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.security import derived_api_key, generate_api_key
from app.engine.workflow.engine import compile_workflow
from app.models import App, AppVersion
from app.models.base import utcnow
from app.services.apps.dsl import ParsedDsl, parse_dsl
from app.services.apps.keys import new_token
from app.services.apps.knowledge_check import knowledge_problems
from app.services.apps.lookup import find_app_in
from app.services.apps.tool_check import tool_problems
from app.services.triggers.sync import sync_triggers, trigger_problems


class ModeMismatch(ValueError):
    """An export of another mode cannot replace an app (Dify refuses it too)."""


@dataclass(frozen=True, slots=True)
class ImportedApp:
    app: App
    api_key: str | None  # None when no key was made (an update, or the app was there)
    warnings: tuple[str, ...] = ()
    # What will not run and why: graph problems (a blocking one stops the whole app),
    # knowledge bases the integrations file does not map, tools the operator has not
    # configured.
    problems: tuple[str, ...] = ()
    version: AppVersion | None = None
    changed: bool = True  # False: the same DSL as the current version, nothing written


def graph_problems(parsed: ParsedDsl) -> tuple[str, ...]:
    """What will not run: the graph's problems and schedules that never fire, then
    unmapped knowledge bases (any mode)."""
    knowledge = knowledge_problems(parsed)
    if not AppMode(parsed.mode).is_graph:
        return knowledge
    compiled = compile_workflow(parsed.document["workflow"])
    allow_seconds = get_settings().scheduler_cron_seconds
    return (
        tuple(
            ("the app cannot run: " if p.blocking else "fails when reached: ") + p.describe()
            for p in compiled.problems
        )
        + trigger_problems(parsed.mode, parsed.document, allow_seconds)
        + knowledge
    )


async def sync_app_triggers(session: AsyncSession, app: App) -> None:
    """The app's webhooks and schedules as its current version has them."""
    allow_seconds = get_settings().scheduler_cron_seconds
    await sync_triggers(session, app.id, app.mode, app.dsl, allow_seconds)


def dsl_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apply_dsl(app: App, parsed: ParsedDsl) -> None:
    """The app row as the DSL describes it (name, icon, …, the document itself)."""
    info = parsed.document["app"]
    app.name = parsed.name
    app.mode = parsed.mode
    app.description = str(info.get("description") or "")
    app.icon = info.get("icon")
    app.icon_type = str(info.get("icon_type") or "emoji")
    app.icon_background = info.get("icon_background") or "#FFFFFF"
    app.use_icon_as_answer_icon = bool(info.get("use_icon_as_answer_icon", False))
    app.dsl_version = parsed.version
    app.dsl = parsed.document
    app.max_active_requests = info.get("max_active_requests")
    app.updated_at = utcnow()


async def _add_version(session: AsyncSession, app: App, parsed: ParsedDsl, text: str) -> AppVersion:
    statement = select(func.max(AppVersion.number)).where(AppVersion.app_id == app.id)
    latest = (await session.exec(statement)).one()
    version = AppVersion(
        app_id=app.id,
        number=int(latest or 0) + 1,
        dsl=parsed.document,
        dsl_text=text,
        dsl_sha256=dsl_digest(text),
        dsl_version=parsed.version,
    )
    session.add(version)
    app.current_version_id = version.id
    session.add(app)
    return version


async def import_app(
    text: str, *, source_key: str | None = None, key: str | None = None, origin: str = "import"
) -> ImportedApp:
    """A new app with one API key (`key`, else a random one); nothing is stored on error.
    With a `source_key` that already names an app, nothing changes (idempotent)."""
    parsed = parse_dsl(text)
    problems = graph_problems(parsed) + await tool_problems(parsed)
    async with session_scope() as session:
        if source_key is not None:
            existing = (await session.exec(select(App).where(App.source_key == source_key))).first()
            if existing is not None:
                return ImportedApp(existing, None, parsed.warnings, problems, changed=False)
        app = App(name=parsed.name, mode=parsed.mode, dsl={}, source_key=source_key, origin=origin)
        apply_dsl(app, parsed)
        session.add(app)
        await session.flush()
        version = await _add_version(session, app, parsed, text)
        await sync_app_triggers(session, app)
        api_key = key or generate_api_key()
        session.add(new_token(app.id, api_key))
    return ImportedApp(app, api_key, parsed.warnings, problems, version)


async def update_app(ref: str, text: str) -> ImportedApp:
    """Replace an app's DSL in place (by id or stable name): a new version becomes current.
    The same text as the current version changes nothing."""
    parsed = parse_dsl(text)
    problems = graph_problems(parsed) + await tool_problems(parsed)
    async with session_scope() as session:
        app = await find_app_in(session, ref, for_update=True)
        if parsed.mode != app.mode:
            raise ModeMismatch(
                f"The file is a {parsed.mode} app; app {app.name!r} is {app.mode}: an app "
                "keeps its mode (import it as a new app instead)."
            )
        current = await session.get(AppVersion, app.current_version_id or "")
        if current is not None and current.dsl_sha256 == dsl_digest(text):
            # Nothing changes, but trigger rows an older Kiln never made are made now.
            await sync_app_triggers(session, app)
            return ImportedApp(app, None, parsed.warnings, problems, current, changed=False)
        apply_dsl(app, parsed)
        version = await _add_version(session, app, parsed, text)
        await sync_app_triggers(session, app)
    return ImportedApp(app, None, parsed.warnings, problems, version)


def derived_key(secret_key: str, name: str) -> str:
    """The API key of an app synced from a folder, derived from the secret and its name
    (so every replica and every run of `kiln apps sync` knows it without storing it)."""
    return derived_api_key(secret_key, f"example:{name}")
