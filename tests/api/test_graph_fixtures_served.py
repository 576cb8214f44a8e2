"""Every graph fixture (apps of our own with the structures of real public exports, see
tests/fixtures/graphs/README.md) imported and run over the Service API as a user would try
an export offline: `KILN_MODEL_OVERRIDE=kiln/echo`, no provider keys. Each run streams to
`workflow_finished` (and `message_end` or `error` for advanced-chat); a fixture without
model-calling nodes ends as its golden did."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.core.config import get_settings
from tests.support.dsl import auth, make_app
from tests.support.graph_http import GraphHttpServer
from tests.support.sse import parse_frames

GRAPHS = Path(__file__).resolve().parents[1] / "fixtures" / "graphs"
MODEL_NODES = {"llm", "question-classifier", "parameter-extractor"}


def _fixtures() -> list[str]:
    return sorted(p.stem for p in GRAPHS.glob("*.yml"))


def _input(value: Any) -> Any:
    """A case's file mapping as a client sends a file input."""
    if isinstance(value, dict) and "transfer_method" in value:
        return {"type": value["type"], "transfer_method": "remote_url", "url": value["url"]}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_input(v) for v in value]
    return value


def _prepared(name: str, base_url: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    document = yaml.safe_load((GRAPHS / f"{name}.yml").read_text(encoding="utf-8"))
    case = json.loads((GRAPHS / f"{name}.cases.json").read_text(encoding="utf-8"))[0]
    env = case.get("environment") or {}
    for variable in document["workflow"].get("environment_variables") or []:
        if variable["name"] in env:
            variable["value"] = str(env[variable["name"]]).replace("{http_base}", base_url)
    golden = json.loads((GRAPHS / "golden" / f"{name}.{case['name']}.json").read_text())
    return yaml.safe_dump(document, allow_unicode=True), case, golden


@pytest.mark.parametrize("name", _fixtures())
async def test_fixture_runs_offline_to_the_end(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(get_settings(), "model_override", "kiln/echo")
    monkeypatch.setattr(get_settings(), "offline_token_delay", 0.0)
    monkeypatch.setattr(get_settings(), "ssrf_allowed_hosts", "127.0.0.1/32")
    from app.net.http_node import GuardedHttpCaller
    from tests.conftest import _SERVER_APPS

    runtime = _SERVER_APPS[-1].state.runtime
    monkeypatch.setattr(runtime, "http_caller", GuardedHttpCaller.from_settings(get_settings()))
    server = GraphHttpServer().start()
    try:
        text, case, golden = _prepared(name, server.base_url)
        _, key = await make_app(text)
        mode = yaml.safe_load(text)["app"]["mode"]
        inputs = {k: _input(v) for k, v in (case.get("inputs") or {}).items()}
        body: dict[str, Any] = {"inputs": inputs, "user": "offline", "response_mode": "streaming"}
        path = "/v1/workflows/run"
        if mode == "advanced-chat":
            path = "/v1/chat-messages"
            body["query"] = case.get("query") or "hello"
        resp = await client.post(path, json=body, headers=auth(key))
    finally:
        server.stop()
    assert resp.status_code == 200, resp.text
    events = [e for e in parse_frames(resp.text) if e["event"] != "ping"]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "workflow_started", kinds
    finished = next(e for e in events if e["event"] == "workflow_finished")
    status = finished["data"]["status"]
    assert status in ("succeeded", "partial-succeeded", "failed"), status
    if mode == "advanced-chat":
        assert kinds[-1] in ("message_end", "error"), kinds
    else:
        assert kinds[-1] == "workflow_finished", kinds
    types = {n["data"].get("type") for n in yaml.safe_load(text)["workflow"]["graph"]["nodes"]}
    if not types & MODEL_NODES and "skipped" not in golden:
        assert status == golden["status"], (status, finished["data"]["error"])
