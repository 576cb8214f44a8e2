"""`kiln serve` and `kiln migrate`."""

import argparse
from pathlib import Path

from app.core.config import PROJECT_ROOT, get_settings


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
