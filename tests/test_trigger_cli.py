"""Triggers on the command line: `kiln apps import` and `kiln apps list` show each webhook's
method and URL (KILN_TRIGGER_URL, else this server's address) and each schedule; an
update in place keeps the URL; `--json` carries them as `triggers`."""

import json
import re
from pathlib import Path

from tests.test_cli import FIXTURES, kiln, kiln_env, ok

EXPORT = str(FIXTURES / "workflow_triggers_v0_5_0.yml")
WEBHOOK_LINE = re.compile(
    r"webhook   New order \(1764000000001\)  POST "
    r"https://hooks\.example\.com/triggers/webhook/[A-Za-z0-9_-]{24}$"
)
SCHEDULE_LINE = re.compile(
    r"schedule  Morning digest \(1764000000002\)  30 7 \* \* \* \(Europe/Berlin\), "
    r"next \d{4}-\d\d-\d\d \d\d:\d\d:00 UTC$"
)


def test_import_and_list_show_webhook_urls_and_schedules(tmp_path: Path) -> None:
    env = kiln_env(f"sqlite:///{tmp_path / 'kiln.db'}")
    env["KILN_TRIGGER_URL"] = "https://hooks.example.com/"
    ok(kiln(env, "migrate"))
    out = ok(kiln(env, "apps", "import", EXPORT, "--name", "orders"))
    lines = [line.strip() for line in out.splitlines()]
    [webhook] = [line for line in lines if line.startswith("webhook")]
    assert WEBHOOK_LINE.match(webhook), webhook
    assert any(SCHEDULE_LINE.match(line) for line in lines), out
    listing = ok(kiln(env, "apps", "list"))
    assert webhook in [line.strip() for line in listing.splitlines()]
    updated = ok(kiln(env, "apps", "import", EXPORT, "--app", "orders", "--json"))
    record = json.loads(updated.splitlines()[-1])
    hook, tick = record["triggers"]
    assert (hook["type"], hook["method"], hook["url"]) == (
        "trigger-webhook",
        "POST",
        webhook.rsplit(" ", 1)[1],
    )
    assert (tick["cron"], tick["timezone"]) == ("30 7 * * *", "Europe/Berlin")


def test_a_synced_folder_keeps_its_webhook_urls(tmp_path: Path) -> None:
    env = kiln_env(f"sqlite:///{tmp_path / 'kiln.db'}")
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "orders.yml").write_text(Path(EXPORT).read_text(encoding="utf-8"))
    ok(kiln(env, "migrate"))
    first, again = (ok(kiln(env, "apps", "sync", str(folder))) for _ in range(2))
    urls = [
        [line.split()[-1] for line in out.splitlines() if line.strip().startswith("webhook")]
        for out in (first, again)
    ]
    assert len(urls[0]) == 1 and urls[0] == urls[1]
    assert urls[0][0].startswith("http://127.0.0.1:5001/triggers/webhook/")
