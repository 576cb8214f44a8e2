"""Apps as files, as an operator runs them: `kiln apps import --app` updates in place (keys,
conversations stay; running answers finish on their version), versions, rollback, export
byte for byte, `POST /v1/workflows/{workflow_id}/run`, `kiln apps sync` (create, unchanged,
update, gone, prune, keys file, name annotation), delete, keys list and revoke; changes
reach every replica within a second."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.dsl import auth, graph_dsl
from tests.support.fake_upstream import FakeUpstream
from tests.support.processes import REPLICA_REDIS, KilnProcess

KILN = str(Path(sys.executable).with_name("kiln"))
START = {"id": "start", "type": "start", "variables": []}


def chatflow(answer: str, llm: bool = False) -> str:
    if not llm:
        node = {"id": "answer", "type": "answer", "answer": answer}
        return graph_dsl("advanced-chat", [START, node], [("start", "answer")], name="Bot")
    model = {"provider": "openai", "name": "gpt-4o-mini", "mode": "chat", "completion_params": {}}
    nodes = [
        START,
        {
            "id": "llm",
            "type": "llm",
            "model": model,
            "prompt_template": [{"role": "user", "text": "{{#sys.query#}}"}],
        },
        {"id": "answer", "type": "answer", "answer": answer + "{{#llm.text#}}"},
    ]
    return graph_dsl("advanced-chat", nodes, [("start", "llm"), ("llm", "answer")], name="Bot")


def workflow(output: str) -> str:
    end = {
        "id": "end",
        "type": "end",
        "outputs": [{"variable": "v", "value_selector": ["env", "V"]}],
    }
    env = [{"id": "e1", "name": "V", "value": output, "value_type": "string"}]
    return graph_dsl("workflow", [START, end], [("start", "end")], name="Flow", environment=env)


async def kiln(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command, off the event loop: the in-process test server must keep serving (a
    blocked loop could hold SQLite's write lock while the command waits for it)."""
    full = {**os.environ, "KILN_LOG_LEVEL": "warning", **(env or {})}
    return await asyncio.to_thread(
        subprocess.run, [KILN, *args], env=full, capture_output=True, text=True, timeout=120
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


async def ask(http: httpx.AsyncClient, key: str, query: str = "hi", **extra: Any) -> dict[str, Any]:
    body = {"inputs": {}, "query": query, "user": "ops", "response_mode": "blocking", **extra}
    resp = await http.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_update_in_place_keeps_keys_and_conversations(
    database: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    first, second = tmp_path / "v1.yml", tmp_path / "v2.yml"
    first.write_text(chatflow("one"))
    second.write_text(chatflow("two"))
    created = json.loads(
        ok(await kiln("apps", "import", str(first), "--name", "bot-a", "--json")).splitlines()[-1]
    )
    key = created["api_key"]
    answer = await ask(client, key)
    assert answer["answer"] == "one"
    updated = json.loads(
        ok(await kiln("apps", "import", str(second), "--app", "bot-a", "--json")).splitlines()[-1]
    )
    assert updated["app_id"] == created["app_id"] and updated["api_key"] is None
    assert updated["version"] == 2 and updated["changed"] is True
    deadline = time.monotonic() + 5
    while (later := await ask(client, key, conversation_id=answer["conversation_id"]))[
        "answer"
    ] != "two":
        assert time.monotonic() < deadline, later
        await asyncio.sleep(0.1)
    assert later["conversation_id"] == answer["conversation_id"]
    again = json.loads(
        ok(
            await kiln("apps", "import", str(second), "--app", created["app_id"], "--json")
        ).splitlines()[-1]
    )
    assert again["changed"] is False and again["version"] == 2
    versions = ok(await kiln("apps", "versions", "bot-a")).splitlines()
    assert [line.split()[0] for line in versions] == ["1", "*"]
    assert ok(await kiln("apps", "export", "bot-a")) == second.read_text()
    assert ok(await kiln("apps", "export", "bot-a", "--version", "1")) == first.read_text()
    ok(await kiln("apps", "rollback", "bot-a", "1"))
    deadline = time.monotonic() + 5
    while (await ask(client, key))["answer"] != "one":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    other_mode = tmp_path / "flow.yml"
    other_mode.write_text(workflow("x"))
    refused = await kiln("apps", "import", str(other_mode), "--app", "bot-a")
    assert refused.returncode == 1 and "keeps its mode" in refused.stderr


async def test_a_running_answer_finishes_on_its_version(
    database: str, client: httpx.AsyncClient, upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.behaviour.hold_completions = True
    upstream.behaviour.chunks = ["x"]
    path = tmp_path / "bot.yml"
    path.write_text(chatflow("old:", llm=True))
    created = json.loads(
        ok(await kiln("apps", "import", str(path), "--name", "bot-b", "--json")).splitlines()[-1]
    )
    key = created["api_key"]
    body = {"inputs": {}, "query": "hi", "user": "ops", "response_mode": "blocking"}
    held = asyncio.create_task(client.post("/v1/chat-messages", json=body, headers=auth(key)))
    deadline = time.monotonic() + 30
    while not upstream.requests:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    path.write_text(chatflow("new:", llm=True))
    ok(await kiln("apps", "import", str(path), "--app", "bot-b"))
    upstream.behaviour.hold_completions = False
    assert (await held).json()["answer"] == "old:x"
    await asyncio.sleep(1.1)  # the key cache's lifetime
    assert (await ask(client, key))["answer"] == "new:x"


async def test_versions_name_runs_and_run_by_version(
    database: str, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yml"
    path.write_text(workflow("first"))
    v1 = json.loads(
        ok(await kiln("apps", "import", str(path), "--name", "flow-a", "--json")).splitlines()[-1]
    )
    path.write_text(workflow("second"))
    v2 = json.loads(
        ok(await kiln("apps", "import", str(path), "--app", "flow-a", "--json")).splitlines()[-1]
    )
    key = v1["api_key"]
    assert v1["workflow_id"] and v2["workflow_id"] and v1["workflow_id"] != v2["workflow_id"]
    body = {"inputs": {}, "user": "ops"}
    await asyncio.sleep(1.1)
    current = (await client.post("/v1/workflows/run", json=body, headers=auth(key))).json()
    assert current["data"]["outputs"] == {"v": "second"}
    assert current["data"]["workflow_id"] == v2["workflow_id"]
    old = await client.post(f"/v1/workflows/{v1['workflow_id']}/run", json=body, headers=auth(key))
    assert old.status_code == 200, old.text
    assert old.json()["data"]["outputs"] == {"v": "first"}
    assert old.json()["data"]["workflow_id"] == v1["workflow_id"]
    run = await client.get(f"/v1/workflows/run/{old.json()['workflow_run_id']}", headers=auth(key))
    assert run.json()["workflow_id"] == v1["workflow_id"]
    bad = await client.post("/v1/workflows/not-a-uuid/run", json=body, headers=auth(key))
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
    unknown = await client.post(
        "/v1/workflows/00000000-0000-4000-8000-000000000000/run", json=body, headers=auth(key)
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


async def test_sync_a_folder(database: str, client: httpx.AsyncClient, tmp_path: Path) -> None:
    folder = tmp_path / "apps"
    folder.mkdir()
    (folder / "greeter.yml").write_text(chatflow("hello"))
    (folder / "renamed-file.yml").write_text("# kiln-app: teller\n" + chatflow("tell"))
    keys_file = tmp_path / "keys.yml"
    keys_file.write_text("teller: app-abcdefghijklmnopqrstuvwx\n")
    first = ok(await kiln("apps", "sync", str(folder), "--keys-file", str(keys_file)))
    rows = [line.split() for line in first.splitlines()]
    assert [r[2] for r in rows] == ["created", "created"]
    greeter_key = next(r[3] for r in rows if r[3] != "app-abcdefghijklmnopqrstuvwx")
    assert (await ask(client, greeter_key))["answer"] == "hello"
    assert (await ask(client, "app-abcdefghijklmnopqrstuvwx"))["answer"] == "tell"
    second = ok(await kiln("apps", "sync", str(folder)))
    assert [line.split()[2] for line in second.splitlines()] == ["unchanged", "unchanged"]
    assert "app-" not in second  # keys are shown once
    (folder / "greeter.yml").write_text(chatflow("hello again"))
    third = ok(await kiln("apps", "sync", str(folder)))
    assert "updated" in third
    (folder / "greeter.yml").unlink()
    gone = ok(await kiln("apps", "sync", str(folder)))
    assert any(line.split()[2] == "gone" for line in gone.splitlines())
    await asyncio.sleep(1.1)
    assert (await ask(client, greeter_key))["answer"] == "hello again"
    pruned = ok(await kiln("apps", "sync", str(folder), "--prune"))
    assert any(line.split()[2] == "removed" for line in pruned.splitlines())
    await asyncio.sleep(1.1)
    resp = await client.post(
        "/v1/chat-messages",
        json={"inputs": {}, "query": "q", "user": "o"},
        headers=auth(greeter_key),
    )
    assert resp.status_code == 401


async def test_delete_and_keys(database: str, client: httpx.AsyncClient, tmp_path: Path) -> None:
    path = tmp_path / "bot.yml"
    path.write_text(chatflow("hi"))
    created = json.loads(
        ok(await kiln("apps", "import", str(path), "--name", "bot-c", "--json")).splitlines()[-1]
    )
    extra = ok(await kiln("keys", "create", "bot-c")).strip()
    listing = ok(await kiln("keys", "list", "bot-c"))
    assert len(listing.splitlines()) == 2
    assert created["api_key"] not in listing and extra not in listing
    key_id = listing.splitlines()[1].split()[0]
    ok(await kiln("keys", "revoke", key_id))
    await asyncio.sleep(1.1)
    assert (await client.get("/v1/info", headers=auth(extra))).status_code == 401
    assert (await client.get("/v1/info", headers=auth(created["api_key"]))).status_code == 200
    refused = await kiln("apps", "delete", "bot-c")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    ok(await kiln("apps", "delete", "bot-c", "--yes"))
    await asyncio.sleep(1.1)
    assert (await client.get("/v1/info", headers=auth(created["api_key"]))).status_code == 401
    assert "bot-c" not in ok(await kiln("apps", "list"))


async def test_changes_reach_every_replica_within_a_second(database: str, tmp_path: Path) -> None:
    path = tmp_path / "bot.yml"
    path.write_text(chatflow("one"))
    redis = {"KILN_REDIS_URL": REPLICA_REDIS}
    created = json.loads(
        ok(
            await kiln("apps", "import", str(path), "--name", "bot-d", "--json", env=redis)
        ).splitlines()[-1]
    )
    key = created["api_key"]
    async with (
        KilnProcess(**redis) as replica_a,
        KilnProcess(**redis) as replica_b,
        httpx.AsyncClient(timeout=30) as http,
    ):
        for replica in (replica_a, replica_b):  # both have the app's key cached now
            http.base_url = httpx.URL(replica.url)
            assert (await ask(http, key))["answer"] == "one"
        path.write_text(chatflow("two"))
        ok(await kiln("apps", "import", str(path), "--app", "bot-d", env=redis))
        changed_at = time.monotonic()
        for replica in (replica_a, replica_b):
            http.base_url = httpx.URL(replica.url)
            while (await ask(http, key))["answer"] != "two":
                await asyncio.sleep(0.05)
            assert time.monotonic() - changed_at < 1.0
        extra = ok(await kiln("keys", "create", "bot-d", env=redis)).strip()
        http.base_url = httpx.URL(replica_a.url)
        await ask(http, extra)
        key_id = ok(await kiln("keys", "list", "bot-d", env=redis)).splitlines()[1].split()[0]
        ok(await kiln("keys", "revoke", key_id, env=redis))
        for replica in (replica_a, replica_b):
            resp = await http.get(f"{replica.url}/v1/info", headers=auth(extra))
            assert resp.status_code == 401
