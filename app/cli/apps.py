"""`kiln apps …`: import (new, or in place), list, versions, rollback, sync, delete, export.
Import and list also show each app's triggers: webhook URLs, schedules."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.cli.common import announce, error, print_problems, run
from app.core.config import get_settings


def _triggers(apps: list[Any]) -> dict[str, list[Any]]:
    """Each app's webhooks (their URLs) and schedules, as `triggers` lines show them."""
    from app.services.triggers.listing import app_triggers

    return dict(run(app_triggers(get_settings(), apps)))


def cmd_import(args: argparse.Namespace) -> int:
    from app.services.apps.dsl import DslError
    from app.services.apps.importer import ModeMismatch, import_app, update_app
    from app.services.apps.lookup import AppNotFound

    try:
        text = Path(args.file).read_text(encoding="utf-8")
        if args.app:
            imported = run(update_app(args.app, text))
            run(announce(imported.app.id))
        else:
            imported = run(import_app(text, source_key=args.name))
    except (OSError, DslError, ModeMismatch, AppNotFound) as exc:
        return error(str(exc))
    print_problems(imported.warnings, imported.problems)
    app, version = imported.app, imported.version
    triggers = _triggers([app]).get(app.id, [])
    record = {
        "app_id": app.id,
        "name": app.name,
        "mode": app.mode,
        "api_key": imported.api_key,
        "version": version.number if version else None,
        "workflow_id": version.id if version and app.app_mode.is_graph else None,
        "changed": imported.changed,
        "triggers": [info.as_json() for info in triggers],
    }
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
        return 0
    if args.app:
        state = f"version {record['version']}" if imported.changed else "unchanged"
        print(f"updated {app.name} ({app.mode}) app_id={app.id}: {state}")
    else:
        print(f"imported {app.name} ({app.mode}) app_id={app.id}")
        print(f"api key (shown once): {imported.api_key}")
    for info in triggers:
        print(f"  {info.describe()}")
    return 0


def cmd_list(_: argparse.Namespace) -> int:
    from app.services.apps.keys import list_apps

    apps = run(list_apps())
    triggers = _triggers(apps)
    for app in apps:
        name = f"  [{app.source_key}]" if app.source_key else ""
        print(f"{app.id}  {app.mode:<14} {app.name}{name}")
        for info in triggers.get(app.id, []):
            print(f"    {info.describe()}")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from app.services.apps.lookup import AppNotFound
    from app.services.apps.versions import list_versions

    try:
        app, versions = run(list_versions(args.app))
    except AppNotFound as exc:
        return error(str(exc))
    for v in versions:
        mark = "*" if v.current else " "
        print(
            f"{mark} {v.number:>4}  {v.id}  {v.created_at:%Y-%m-%d %H:%M:%S}  DSL {v.dsl_version}"
        )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from app.services.apps.lookup import AppNotFound
    from app.services.apps.versions import VersionNotFound, rollback

    try:
        app, version = run(rollback(args.app, args.version))
    except (AppNotFound, VersionNotFound) as exc:
        return error(str(exc))
    run(announce(app.id))
    print(f"{app.name}: version {version.number} ({version.id}) is current")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Print one line per app: created (with its key, the one time it is shown unless
    --print-keys), updated, unchanged, failed, gone or removed."""
    from app.services.apps.importer import derived_key
    from app.services.apps.sync import read_keys_file, sync_folder

    settings = get_settings()
    directory = Path(args.directory)
    if not directory.is_dir():
        return error(f"{directory} is not a folder")
    try:
        keys = read_keys_file(Path(args.keys_file)) if args.keys_file else {}
    except (OSError, ValueError) as exc:
        return error(str(exc))
    report = run(sync_folder(settings, directory, prune=args.prune, keys=keys))
    changed = [e.app.id for e in report.entries if e.app and e.action in ("updated", "removed")]
    run(announce(*changed))
    serving = [e.app for e in report.entries if e.app and e.action not in ("failed", "removed")]
    triggers = _triggers(serving)
    for entry in report.entries:
        app = entry.app
        mode = app.mode if app else ""
        title = app.name if app else entry.name
        key = entry.key
        if key is None and args.print_keys and entry.action in ("updated", "unchanged"):
            key = keys.get(entry.name) or derived_key(settings.secret_key, entry.name)
        detail = key or entry.error or ""
        print(f"{title:<28} {mode:<14} {entry.action:<10} {detail}".rstrip())
        for info in triggers.get(app.id, []) if app else []:
            print(f"  {info.describe()}")
        if entry.action == "failed":
            print(f"error: {entry.path}: {entry.error}", file=sys.stderr)
        print_problems(entry.warnings, entry.problems, indent="  ")
    return 1 if report.failed else 0


def cmd_delete(args: argparse.Namespace) -> int:
    from app.services.apps.lookup import AppNotFound
    from app.services.apps.removal import delete_app

    if not args.yes:
        return error(
            f"deleting {args.app!r} removes its keys, versions, conversations, messages, "
            "files, annotations, end users and runs: add --yes to confirm"
        )
    try:
        app = run(delete_app(get_settings(), args.app))
    except AppNotFound as exc:
        return error(str(exc))
    run(announce(app.id))
    print(f"deleted {app.name} ({app.mode}) app_id={app.id}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from app.services.apps.lookup import AppNotFound
    from app.services.apps.versions import VersionNotFound, export_text

    try:
        text = run(export_text(args.app, args.version))
    except (AppNotFound, VersionNotFound) as exc:
        return error(str(exc))
    sys.stdout.write(text)  # as imported, byte for byte
    sys.stdout.flush()
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    apps = sub.add_parser("apps", help="manage apps").add_subparsers(dest="apps", required=True)
    imp = apps.add_parser("import", help="import a Dify DSL file (new app, or --app to update)")
    imp.add_argument("file")
    imp.add_argument("--app", help="update this app (id or name) in place instead")
    imp.add_argument("--name", help="a stable name for the new app (commands accept it)")
    imp.add_argument("--json", action="store_true", help="end with a JSON line")
    imp.set_defaults(func=cmd_import)
    apps.add_parser("list", help="list apps").set_defaults(func=cmd_list)
    versions = apps.add_parser("versions", help="list an app's versions (* = current)")
    versions.add_argument("app", help="app id or name")
    versions.set_defaults(func=cmd_versions)
    back = apps.add_parser("rollback", help="make an older version current")
    back.add_argument("app", help="app id or name")
    back.add_argument("version", help="version number or id")
    back.set_defaults(func=cmd_rollback)
    for name, helptext in (
        ("sync", "create or update an app for every DSL file of a folder"),
        ("bootstrap", "the old name of `sync --print-keys`"),
    ):
        sync = apps.add_parser(name, help=helptext)
        sync.add_argument("directory")
        sync.add_argument(
            "--prune", action="store_true", help="delete synced apps whose file is gone"
        )
        sync.add_argument("--keys-file", help="YAML {name: api key} for apps this sync creates")
        sync.add_argument(
            "--print-keys",
            action="store_true",
            default=name == "bootstrap",
            help="also print the derived keys of apps that already exist",
        )
        sync.set_defaults(func=cmd_sync)
    delete = apps.add_parser("delete", help="delete an app and everything that belongs to it")
    delete.add_argument("app", help="app id or name")
    delete.add_argument("--yes", action="store_true", help="confirm")
    delete.set_defaults(func=cmd_delete)
    export = apps.add_parser("export", help="print an app's DSL exactly as imported")
    export.add_argument("app", help="app id or name")
    export.add_argument("--version", help="version number or id (default: the current one)")
    export.set_defaults(func=cmd_export)
