"""Alembic round trip on a fresh SQLite file and a fresh PostgreSQL database:
upgrade head, downgrade base, upgrade head again; the schema at head matches the models."""

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables)
from app.core.config import PROJECT_ROOT
from app.core.db import create_engine
from app.models.annotation import in_schema_compare
from tests.conftest import postgres_server, run_migrations

PG_SERVER = postgres_server()
TABLES = set(SQLModel.metadata.tables)  # every table the models declare


def head_revision() -> str:
    head = ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini"))).get_current_head()
    assert head is not None
    return head


def _snapshot(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    versions: list[str] = []
    if "alembic_version" in tables:
        versions = [
            r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))
        ]
    context = MigrationContext.configure(connection, opts={"include_object": in_schema_compare})
    with warnings.catch_warnings():  # reflection does not know pgvector's type; it is skipped
        warnings.filterwarnings("ignore", "Did not recognize type 'vector'", SAWarning)
        diff = compare_metadata(context, SQLModel.metadata)
    return {"tables": tables - {"alembic_version"}, "versions": versions, "diff": diff}


async def snapshot(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_snapshot)
    finally:
        await engine.dispose()


async def round_trip(url: str) -> None:
    head = head_revision()

    await asyncio.to_thread(run_migrations, url)
    state = await snapshot(url)
    assert state["tables"] == TABLES
    assert state["versions"] == [head]
    assert state["diff"] == [], "models and migrations disagree"

    await asyncio.to_thread(run_migrations, url, "base", True)
    state = await snapshot(url)
    assert state["tables"] == set()
    assert state["versions"] == []

    await asyncio.to_thread(run_migrations, url)
    state = await snapshot(url)
    assert state["tables"] == TABLES
    assert state["versions"] == [head]
    assert state["diff"] == []


async def test_sqlite_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "migrations.db"
    await round_trip(f"sqlite+aiosqlite:///{path}")
    assert path.exists()


@pytest.fixture
async def fresh_postgres() -> AsyncIterator[str]:
    name = f"kiln_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://{PG_SERVER}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_postgresql_round_trip(fresh_postgres: str) -> None:
    await round_trip(fresh_postgres)
    # Dropping the tables leaves no stray objects behind, e.g. enum types or sequences.
    await asyncio.to_thread(run_migrations, fresh_postgres, "base", True)
    connection = await asyncpg.connect(fresh_postgres.replace("+asyncpg", ""))
    try:
        leftovers = await connection.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname <> 'alembic_version' "
            "AND c.relname NOT LIKE 'alembic_version%'"
        )
        types = await connection.fetch(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype = 'e'"
        )
    finally:
        await connection.close()
    assert [r["relname"] for r in leftovers] == []
    assert [r["typname"] for r in types] == []


async def test_existing_apps_get_their_first_version(tmp_path: Path) -> None:
    """0009 on a database with apps: each gets version 1 (a graph app's keeps the workflow id
    its runs already name), and apps of `apps bootstrap` become synced apps."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kiln.db'}"
    await asyncio.to_thread(run_migrations, url, "0008")
    engine = create_engine(url)
    app_id = str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO apps (id, name, mode, description, icon_type, "
                "use_icon_as_answer_icon, dsl_version, dsl, enable_api, status, source_key, "
                "created_at, updated_at) VALUES (:id, 'Ex', 'workflow', '', 'emoji', 0, "
                "'0.6.0', :dsl, 1, 'normal', 'example:ex', '2026-01-01', '2026-01-01')"
            ),
            {"id": app_id, "dsl": '{"app": {"mode": "workflow"}, "workflow": {"graph": {}}}'},
        )
    await engine.dispose()
    await asyncio.to_thread(run_migrations, url)
    engine = create_engine(url)
    async with engine.connect() as connection:
        app = (
            await connection.execute(
                text("SELECT source_key, origin, current_version_id FROM apps WHERE id = :id"),
                {"id": app_id},
            )
        ).one()
        version = (
            await connection.execute(
                text("SELECT id, number, dsl_text FROM app_versions WHERE app_id = :id"),
                {"id": app_id},
            )
        ).one()
    await engine.dispose()
    assert (app[0], app[1]) == ("ex", "sync")
    assert app[2] == version[0] and version[1] == 1 and "workflow" in version[2]
