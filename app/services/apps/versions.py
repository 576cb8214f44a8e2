"""An app's versions on the command line: list them, make an older one current, export
one byte for byte as it was imported."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_
from sqlmodel import col, select

from app.core.db import session_scope
from app.models import App, AppVersion
from app.services.apps.dsl import parse_dsl
from app.services.apps.importer import apply_dsl, sync_app_triggers
from app.services.apps.lookup import find_app_in


class VersionNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class VersionInfo:
    id: str
    number: int
    dsl_version: str
    created_at: datetime
    current: bool


async def list_versions(ref: str) -> tuple[App, list[VersionInfo]]:
    async with session_scope() as session:
        app = await find_app_in(session, ref)
        statement = (
            select(AppVersion).where(AppVersion.app_id == app.id).order_by(col(AppVersion.number))
        )
        rows = (await session.exec(statement)).all()
    return app, [
        VersionInfo(r.id, r.number, r.dsl_version, r.created_at, r.id == app.current_version_id)
        for r in rows
    ]


def _version_where(app_id: str, version: str) -> ColumnElement[bool]:
    """By number (`3`) or by id."""
    if version.isdigit():
        return and_(col(AppVersion.app_id) == app_id, col(AppVersion.number) == int(version))
    return and_(col(AppVersion.app_id) == app_id, col(AppVersion.id) == version)


async def rollback(ref: str, version: str) -> tuple[App, AppVersion]:
    """Make one of the app's versions (by number or id) current again, in one transaction."""
    async with session_scope() as session:
        app = await find_app_in(session, ref, for_update=True)
        row = (
            await session.exec(select(AppVersion).where(_version_where(app.id, version)))
        ).first()
        if row is None:
            raise VersionNotFound(f"App {app.name!r} has no version {version!r}")
        apply_dsl(app, parse_dsl(row.dsl_text))
        app.current_version_id = row.id
        session.add(app)
        await sync_app_triggers(session, app)
    return app, row


async def export_text(ref: str, version: str | None = None) -> str:
    """The DSL exactly as imported: the current version, or one by number or id."""
    async with session_scope() as session:
        app = await find_app_in(session, ref)
        where = (
            _version_where(app.id, version)
            if version is not None
            else col(AppVersion.id) == (app.current_version_id or "")
        )
        row = (await session.exec(select(AppVersion).where(where))).first()
    if row is None:
        raise VersionNotFound(f"App {app.name!r} has no version {version or 'current'!r}")
    return row.dsl_text
