"""The `kiln` command: serve, migrate, import apps, issue keys."""

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from app.core.config import PROJECT_ROOT, get_settings


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


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
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


def cmd_migrate(_: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    settings = get_settings()
    if settings.is_sqlite:
        path = settings.database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    command.upgrade(config, "head")
    print("database migrated to head")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.server import serve

    settings = get_settings()
    serve(args.host or settings.host, args.port or settings.port)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from app.services.apps.dsl import DslError
    from app.services.apps.importer import import_app

    try:
        text = Path(args.file).read_text(encoding="utf-8")
        imported = _run(import_app(text))
    except (OSError, DslError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for warning in imported.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in imported.problems:
        print(f"will not run: {problem}", file=sys.stderr)
    app = imported.app
    record = {"app_id": app.id, "name": app.name, "mode": app.mode, "api_key": imported.api_key}
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(f"imported {app.name} ({app.mode}) app_id={app.id}")
        print(f"api key (shown once): {imported.api_key}")
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    """Import every example app once; print each with a key derived from the secret."""
    from app.services.apps.dsl import DslError
    from app.services.apps.importer import bootstrap_key, import_app

    settings = get_settings()
    status = 0
    for path in sorted(Path(args.directory).glob("*.yml")):
        source_key = f"example:{path.stem}"
        key = bootstrap_key(settings.secret_key, source_key)
        try:
            imported = _run(import_app(path.read_text("utf-8"), source_key=source_key, key=key))
        except DslError as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{imported.app.name:<28} {imported.app.mode:<14} {key}")
        for problem in imported.problems:
            print(f"  will not run: {problem}", file=sys.stderr)
    return status


def cmd_list(_: argparse.Namespace) -> int:
    from app.services.apps.importer import list_apps

    for app in _run(list_apps()):
        print(f"{app.id}  {app.mode:<14} {app.name}")
    return 0


def cmd_key_create(args: argparse.Namespace) -> int:
    from app.services.apps.importer import create_key

    try:
        key = _run(create_key(args.app_id))
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(key)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiln", description="Kiln: Dify-compatible app runtime")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    apps = sub.add_parser("apps", help="manage apps").add_subparsers(dest="apps", required=True)
    imp = apps.add_parser("import", help="import a Dify DSL file")
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true", help="end with a JSON line")
    imp.set_defaults(func=cmd_import)
    apps.add_parser("list", help="list apps").set_defaults(func=cmd_list)
    boot = apps.add_parser("bootstrap", help="import a folder of example apps once")
    boot.add_argument("directory")
    boot.set_defaults(func=cmd_bootstrap)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys", required=True)
    create = keys.add_parser("create", help="create an API key for an app")
    create.add_argument("app_id")
    create.set_defaults(func=cmd_key_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=get_settings().log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
