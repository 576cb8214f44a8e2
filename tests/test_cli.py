"""The `kiln` command as an operator runs it: a separate process per call, configured only by
`KILN_DATABASE_URL`, against a fresh SQLite file (both URL spellings) or PostgreSQL database."""

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
KILN = str(Path(sys.executable).with_name("kiln"))
FIXTURES = ROOT / "tests" / "fixtures" / "dsl"
EXAMPLES = ROOT / "examples" / "apps"
PG_SERVER = "postgres@127.0.0.1:5432"
TABLES = {"apps", "api_tokens", "end_users", "conversations", "messages"}
KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def is_key(text: str) -> bool:
    return len(text) == 28 and text.startswith("app-") and set(text[4:]) <= KEY_CHARS


def keys_in(text: str) -> list[str]:
    return [word for word in text.split() if is_key(word)]


def kiln_env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "KILN_DATABASE_URL": database_url, "KILN_LOG_LEVEL": "warning"}
    env.pop("KILN_REDIS_URL", None)
    return env


def kiln(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KILN, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def sqlite_rows(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute(sql, params).fetchall())


def sqlite_tables(path: Path) -> set[str]:
    return {
        str(r[0]) for r in sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type='table'")
    }


def database_bytes(path: Path) -> bytes:
    parts = [path, path.with_name(path.name + "-wal")]
    return b"".join(p.read_bytes() for p in parts if p.exists())


@pytest.fixture(params=["sqlite:///", "sqlite+aiosqlite:///"])
def sqlite_env(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[dict[str, str], Path]:
    path = tmp_path / "nested" / "kiln.db"
    return kiln_env(f"{request.param}{path}"), path


def test_migrate_import_list_and_keys(sqlite_env: tuple[dict[str, str], Path]) -> None:
    env, path = sqlite_env
    ok(kiln(env, "migrate"))
    assert TABLES <= sqlite_tables(path)

    out = ok(kiln(env, "apps", "import", str(FIXTURES / "v0_5_0_chat.yml"), "--json"))
    record = json.loads(out.strip().splitlines()[-1])
    assert set(record) == {
        "app_id",
        "name",
        "mode",
        "api_key",
        "version",
        "workflow_id",
        "changed",
        "triggers",
    }
    assert (record["name"], record["mode"]) == ("Recipe Coach", "chat")
    assert uuid.UUID(record["app_id"]) and is_key(record["api_key"])

    listing = ok(kiln(env, "apps", "list"))
    [line] = [line for line in listing.splitlines() if record["app_id"] in line]
    assert "Recipe Coach" in line and "chat" in line

    created = ok(kiln(env, "keys", "create", record["app_id"])).strip().splitlines()[-1]
    assert is_key(created) and created != record["api_key"]

    rows = sqlite_rows(path, "SELECT token_hash FROM api_tokens WHERE app_id = ?", record["app_id"])
    digests = {hashlib.sha256(k.encode()).hexdigest() for k in (record["api_key"], created)}
    assert {r[0] for r in rows} == digests
    raw = database_bytes(path)
    assert record["api_key"].encode() not in raw and created.encode() not in raw

    missing = kiln(env, "keys", "create", str(uuid.uuid4()))
    assert missing.returncode != 0
    assert "error" in missing.stderr.lower() and not keys_in(missing.stdout)
    assert len(sqlite_rows(path, "SELECT id FROM api_tokens")) == 2


@pytest.mark.parametrize(
    ("name", "message"),
    [("bad/no_app.yml", "Missing app data"), ("bad/unquoted_version.yml", "Invalid version type")],
)
def test_bad_file_exits_non_zero_and_stores_nothing(
    sqlite_env: tuple[dict[str, str], Path], name: str, message: str
) -> None:
    env, path = sqlite_env
    ok(kiln(env, "migrate"))
    result = kiln(env, "apps", "import", str(FIXTURES / name), "--json")
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stdout.strip() == ""
    missing = kiln(env, "apps", "import", str(FIXTURES / "no-such-file.yml"))
    assert missing.returncode != 0 and missing.stderr.strip()
    assert sqlite_rows(path, "SELECT COUNT(*) FROM apps") == [(0,)]
    assert sqlite_rows(path, "SELECT COUNT(*) FROM api_tokens") == [(0,)]
    assert ok(kiln(env, "apps", "list")).strip() == ""


def _wait_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60  # a loaded CI machine can be slow to start it
    while time.monotonic() < deadline:
        assert process.poll() is None, "kiln serve exited early"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("kiln serve did not become healthy")


def test_sync_as_make_run_uses_it_is_idempotent_and_served_keys_work(tmp_path: Path) -> None:
    path = tmp_path / "kiln.db"
    env = kiln_env(f"sqlite:///{path}")
    ok(kiln(env, "migrate"))
    first = ok(kiln(env, "apps", "sync", str(EXAMPLES), "--print-keys"))
    second = ok(kiln(env, "apps", "sync", str(EXAMPLES), "--print-keys"))
    assert {line.split()[-2] for line in first.splitlines()} == {"created"}
    assert {line.split()[-2] for line in second.splitlines()} == {"unchanged"}
    assert keys_in(first) == keys_in(second)
    # The old name of the same command.
    assert keys_in(ok(kiln(env, "apps", "bootstrap", str(EXAMPLES)))) == keys_in(first)
    examples = sorted(EXAMPLES.glob("*.yml"))
    keys = keys_in(first)
    assert len(keys) == len(set(keys)) == len(examples) == 5
    assert sqlite_rows(path, "SELECT COUNT(*) FROM apps") == [(len(examples),)]
    assert sqlite_rows(path, "SELECT COUNT(*) FROM api_tokens") == [(len(examples),)]
    [line] = [line for line in first.splitlines() if line.startswith("Chat Assistant")]
    [assistant_key] = keys_in(line)
    [line] = [line for line in first.splitlines() if line.startswith("Support Chatflow")]
    [chatflow_key] = keys_in(line)
    [line] = [line for line in first.splitlines() if line.startswith("Summary Workflow")]
    [workflow_key] = keys_in(line)
    out = ok(kiln(env, "apps", "import", str(FIXTURES / "v0_3_1_chat.yml"), "--json"))
    imported = json.loads(out.splitlines()[-1])

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [KILN, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(process, url)
        headers = {"Authorization": f"Bearer {assistant_key}"}
        body = {
            "inputs": {"name": "Ann", "tone": "formal"},
            "query": "Hello from the CLI test",
            "response_mode": "blocking",
            "user": "cli-user",
        }
        resp = httpx.post(f"{url}/v1/chat-messages", json=body, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        assert resp.json()["answer"] == "Echo (turn 1): Hello from the CLI test"
        # The graph examples run offline too: a chatflow's two branches, a workflow.
        headers = {"Authorization": f"Bearer {chatflow_key}"}
        for query, answer in (
            ("What can you do?", "Echo (turn 1): What can you do?\n\n(Questions so far: 1)"),
            ("I want a refund", "Refunds reach your account within 5 working days. (Turn 1)"),
        ):
            body = {"inputs": {}, "query": query, "response_mode": "blocking", "user": "cli"}
            resp = httpx.post(f"{url}/v1/chat-messages", json=body, headers=headers, timeout=30)
            assert resp.status_code == 200 and resp.json()["answer"] == answer, resp.text
        body = {
            "inputs": {"text": "Kiln runs Dify apps.", "style": "one sentence"},
            "response_mode": "blocking",
            "user": "cli",
        }
        headers = {"Authorization": f"Bearer {workflow_key}"}
        resp = httpx.post(f"{url}/v1/workflows/run", json=body, headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        run = resp.json()["data"]
        assert run["status"] == "succeeded" and run["outputs"]["style"] == "one sentence"
        assert run["outputs"]["summary"].endswith("Kiln runs Dify apps.")
        for key in keys:
            info = httpx.get(f"{url}/v1/info", headers={"Authorization": f"Bearer {key}"})
            assert info.status_code == 200 and info.json()["name"] in first
        info = httpx.get(
            f"{url}/v1/info", headers={"Authorization": f"Bearer {imported['api_key']}"}
        )
        assert info.status_code == 200 and info.json()["name"] == "Support Triage"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_migrate_and_import_with_plain_postgresql_url() -> None:
    name = f"kiln_cli_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        env = kiln_env(f"postgresql://{PG_SERVER}/{name}")
        ok(await asyncio.to_thread(kiln, env, "migrate"))
        connection = await asyncpg.connect(f"postgresql://{PG_SERVER}/{name}")
        try:
            rows = await connection.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            assert TABLES <= {r["table_name"] for r in rows}
            fixture = str(FIXTURES / "v0_1_2_completion.yml")
            out = ok(await asyncio.to_thread(kiln, env, "apps", "import", fixture, "--json"))
            record = json.loads(out.strip().splitlines()[-1])
            assert (record["name"], record["mode"]) == ("Release Notes Writer", "completion")
            stored = await connection.fetchval(
                "SELECT name FROM apps WHERE id = $1", record["app_id"]
            )
            assert stored == "Release Notes Writer"
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.mark.parametrize("command", [("apps", "list"), ("apps", "import", "{fixture}")])
def test_commands_before_migrate_say_to_migrate(tmp_path: Path, command: tuple[str, ...]) -> None:
    env = kiln_env(f"sqlite:///{tmp_path / 'fresh.db'}")
    args = [a.format(fixture=FIXTURES / "v0_5_0_chat.yml") for a in command]
    result = kiln(env, *args)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: the database has no Kiln tables yet: run `kiln migrate` first"
    ], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_older_dsl_version_warning_names_the_version_kiln_reads(
    sqlite_env: tuple[dict[str, str], Path],
) -> None:
    env, _ = sqlite_env
    ok(kiln(env, "migrate"))
    result = kiln(env, "apps", "import", str(FIXTURES / "v0_5_0_chat.yml"))
    ok(result)
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "0.5.0 is older than 0.6.0, the version Kiln reads" in warning
    assert "fields added since take their defaults" in warning
