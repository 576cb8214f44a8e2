"""`kiln apps sync DIR`: a folder of DSL files is the source of truth for its apps (a
Kubernetes ConfigMap or volume). Each file creates its app or updates it in place, matched
by a stable name: the file's `# kiln-app: NAME` first-lines comment, else its file name
without the extension. A file whose text is the app's current version changes nothing.
Apps a sync made whose file is gone are reported, and removed only when pruning."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlmodel import select

from app.core.config import Settings
from app.core.db import session_scope
from app.models import App
from app.services.apps.dsl import DslError
from app.services.apps.importer import ImportedApp, ModeMismatch, derived_key, import_app
from app.services.apps.importer import update_app as update_existing
from app.services.apps.removal import delete_app

SUFFIXES = (".yml", ".yaml")
_ANNOTATION = re.compile(r"^#\s*kiln-app:\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,254})\s*$")
_ANNOTATION_LINES = 5


@dataclass(slots=True)
class SyncEntry:
    name: str
    action: str  # created | updated | unchanged | failed | gone | removed
    path: Path | None = None
    app: App | None = None
    key: str | None = None  # created apps only
    warnings: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    error: str | None = None


@dataclass(slots=True)
class SyncReport:
    entries: list[SyncEntry] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(e.action == "failed" for e in self.entries)


def app_name(path: Path, text: str) -> str:
    for line in text.splitlines()[:_ANNOTATION_LINES]:
        found = _ANNOTATION.match(line.strip())
        if found:
            return found.group("name")
    return path.stem


def read_keys_file(path: Path) -> dict[str, str]:
    """`{name: api key}` for apps a sync creates (instead of keys derived from the secret)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"{path}: expected a mapping of app name to API key")
    return {str(k): v for k, v in raw.items()}


async def _one(
    settings: Settings, name: str, path: Path, text: str, keys: dict[str, str]
) -> SyncEntry:
    async with session_scope() as session:
        existing = (await session.exec(select(App).where(App.source_key == name))).first()
    try:
        if existing is None:
            key = keys.get(name) or derived_key(settings.secret_key, name)
            done: ImportedApp = await import_app(text, source_key=name, key=key, origin="sync")
            return _entry(name, "created", path, done, key)
        done = await update_existing(existing.id, text)
        return _entry(name, "updated" if done.changed else "unchanged", path, done, None)
    except (DslError, ModeMismatch) as exc:
        return SyncEntry(name, "failed", path, existing, error=str(exc))


def _entry(name: str, action: str, path: Path, done: ImportedApp, key: str | None) -> SyncEntry:
    return SyncEntry(name, action, path, done.app, key, done.warnings, done.problems)


async def sync_folder(
    settings: Settings, directory: Path, *, prune: bool = False, keys: dict[str, str] | None = None
) -> SyncReport:
    report = SyncReport()
    seen: dict[str, Path] = {}
    files = sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())
    for path in files:
        text = path.read_text(encoding="utf-8")
        name = app_name(path, text)
        if name in seen:
            error = f"the name {name!r} is also used by {seen[name].name}"
            report.entries.append(SyncEntry(name, "failed", path, error=error))
            continue
        seen[name] = path
        report.entries.append(await _one(settings, name, path, text, keys or {}))
    async with session_scope() as session:
        statement = select(App).where(App.origin == "sync")
        synced = list((await session.exec(statement)).all())
    for app in synced:
        if app.source_key is None or app.source_key in seen:
            continue
        if prune:
            await delete_app(settings, app.id)
        report.entries.append(SyncEntry(app.source_key, "removed" if prune else "gone", app=app))
    return report
