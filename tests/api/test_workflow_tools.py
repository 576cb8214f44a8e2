"""Workflow apps with tool nodes served over `/v1/workflows/run`, the tools configured by an
integrations file written for the test (the server's ToolBox rebuilt from it): builtin
tools against a loopback site (time, Tavily, webscraper), an unconfigured tool listed at
import and failing its run naming the setting (and a marked placeholder under dry run),
and workflow-as-tool with Dify's call-depth limit."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from app.integrations.config import load_integrations
from app.integrations.tools.runtime import ToolBox
from app.services.apps.importer import import_app
from tests.conftest import _SERVER_APPS
from tests.support.dsl import auth, graph_dsl, make_app
from tests.unit.tools.web_site import WebSite, web_site


@pytest.fixture(scope="module")
def site() -> Iterator[WebSite]:
    with web_site() as found:
        yield found


def use_integrations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> ToolBox:
    """Point the settings at a fresh integrations file and rebuild the server's tools."""
    file = tmp_path / "integrations.yaml"
    file.write_text(text, encoding="utf-8")
    settings = get_settings()
    monkeypatch.setattr(settings, "integrations_file", str(file))
    monkeypatch.setattr(settings, "ssrf_allowed_hosts", "127.0.0.1/32")
    runtime = _SERVER_APPS[-1].state.runtime
    load_integrations.cache_clear()
    box = ToolBox.from_settings(settings, runtime.gateway)
    monkeypatch.setattr(runtime, "tools", box)
    return box


def tool(node_id: str, provider: str, name: str, **data: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "tool",
        "title": node_id,
        "provider_type": data.pop("provider_type", "builtin"),
        "provider_id": provider,
        "provider_name": data.pop("provider_name", provider.rsplit("/", 1)[-1]),
        "tool_name": name,
        "tool_label": name,
        "tool_configurations": data.pop("tool_configurations", {}),
        "tool_parameters": data.pop("tool_parameters", {}),
        **data,
    }


def mixed(template: str) -> dict[str, str]:
    return {"type": "mixed", "value": template}


def end(**outputs: list[str]) -> dict[str, Any]:
    return {
        "id": "end",
        "type": "end",
        "outputs": [{"variable": k, "value_selector": v} for k, v in outputs.items()],
    }


def start(*names: str) -> dict[str, Any]:
    return {
        "id": "start",
        "type": "start",
        "variables": [
            {"variable": n, "label": n, "type": "text-input", "required": True} for n in names
        ],
    }


async def run(client: httpx.AsyncClient, key: str, inputs: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(
        "/v1/workflows/run",
        json={"inputs": inputs, "user": "tool-user", "response_mode": "blocking"},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()["data"]
    return data


async def test_builtin_tools_in_a_served_workflow(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, site: WebSite
) -> None:
    use_integrations(
        monkeypatch,
        tmp_path,
        f"""
tools:
  credentials:
    tavily: {{api_key: tvly-test, base_url: "{site.base}"}}
""",
    )
    nodes = [
        start("topic", "page"),
        tool(
            "clock",
            "langgenius/time/time",
            "weekday",
            tool_parameters={
                "year": {"type": "constant", "value": 2024},
                "month": mixed("3"),
                "day": {"type": "constant", "value": "9"},
            },
        ),
        tool(
            "search",
            "tavily",
            "tavily_search",
            tool_configurations={"max_results": 3, "include_answer": 0, "include_images": 0},
            tool_parameters={"query": mixed("all about {{#start.topic#}}")},
        ),
        tool(
            "read",
            "webscraper",
            "webscraper",
            tool_parameters={"url": {"type": "variable", "value": ["start", "page"]}},
        ),
        end(
            day=["clock", "text"],
            found=["search", "json"],
            page=["read", "text"],
            nothing=["clock", "json"],
        ),
    ]
    edges = [("start", "clock"), ("clock", "search"), ("search", "read"), ("read", "end")]
    imported = await import_app(graph_dsl("workflow", nodes, edges, name="Tool Trio"))
    assert imported.problems == ()
    assert imported.api_key is not None
    data = await run(client, imported.api_key, {"topic": "kilns", "page": f"{site.base}/article"})
    assert data["status"] == "succeeded", data
    outputs = data["outputs"]
    assert outputs["day"] == "March 9, 2024 is Saturday."
    assert outputs["nothing"] == [{"data": []}]
    assert outputs["found"][0]["results"][0]["title"] == "Kiln"
    assert site.requests[-2].json()["query"] == "all about kilns"
    assert site.requests[-2].json()["max_results"] == 3
    assert "TITLE: Kiln field notes" in outputs["page"] and "Cone packs" in outputs["page"]
    detail = await client.get(f"/v1/workflows/run/{data['id']}", headers=auth(imported.api_key))
    assert detail.json()["status"] == "succeeded"


async def test_an_unconfigured_tool_is_listed_fails_and_dry_runs(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_integrations(monkeypatch, tmp_path, "tools: {}\n")
    nodes = [
        start("q"),
        tool(
            "docs",
            "mcp-server-id",
            "search_docs",
            provider_type="mcp",
            provider_name="docs",
            tool_parameters={"query": mixed("{{#start.q#}}")},
        ),
        end(text=["docs", "text"], marked=["docs", "kiln_placeholder"]),
    ]
    imported = await import_app(
        graph_dsl("workflow", nodes, [("start", "docs"), ("docs", "end")], name="Docs")
    )
    [problem] = imported.problems
    assert problem.startswith("fails when reached: node docs (docs): MCP tool docs/search_docs")
    assert "`tools.mcp.docs`" in problem and "integrations.yaml" in problem
    assert imported.api_key is not None
    failed = await run(client, imported.api_key, {"q": "x"})
    assert failed["status"] == "failed"
    assert failed["error"].startswith("Failed to get tool runtime: MCP tool docs/search_docs")
    assert "`tools.mcp.docs`" in failed["error"]

    use_integrations(monkeypatch, tmp_path, "tools: {dry_run: true}\n")
    dry = await run(client, imported.api_key, {"q": "x"})
    assert dry["status"] == "succeeded", dry
    assert dry["outputs"]["marked"] is True
    assert "placeholder" in dry["outputs"]["text"]


async def test_workflow_as_tool_and_the_depth_limit(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_integrations(monkeypatch, tmp_path, "tools: {workflows: {greeter-tool-id: Greeter}}\n")
    child_nodes = [start("name"), end(greeting=["start", "name"])]
    await make_app(graph_dsl("workflow", child_nodes, [("start", "end")], name="Greeter"))
    parent_nodes = [
        start("who"),
        tool(
            "call",
            "greeter-tool-id",
            "greeter",
            provider_type="workflow",
            provider_name="greeter",
            tool_parameters={"name": mixed("Dear {{#start.who#}}")},
        ),
        end(text=["call", "text"], json=["call", "json"]),
    ]
    imported = await import_app(
        graph_dsl("workflow", parent_nodes, [("start", "call"), ("call", "end")], name="Caller")
    )
    assert imported.problems == ()
    assert imported.api_key is not None
    data = await run(client, imported.api_key, {"who": "Ada"})
    assert data["status"] == "succeeded", data
    assert data["outputs"]["json"] == [{"greeting": "Dear Ada"}]
    assert json.loads(data["outputs"]["text"]) == {"greeting": "Dear Ada"}

    # An app that calls itself: runs at depths 0..5, the sixth call is refused.
    looping = [
        start("n"),
        tool(
            "again",
            "no-such-id",
            "Looper",
            provider_type="workflow",
            provider_name="Looper",
            tool_parameters={"n": mixed("{{#start.n#}}+")},
        ),
        end(text=["again", "text"]),
    ]
    _, key = await make_app(
        graph_dsl("workflow", looping, [("start", "again"), ("again", "end")], name="Looper")
    )
    deep = await run(client, key, {"n": "1"})
    assert deep["status"] == "failed"
    assert deep["error"].count("Failed to invoke tool") == 6
    assert deep["error"].endswith("Max workflow call depth 5 reached.")


async def test_a_workflow_tool_that_pauses_for_human_input_fails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A called workflow that reaches a human-input node waits for a form nobody is shown:
    the tool call fails (it succeeded with no outputs) and the paused run ends."""
    from sqlmodel import col, select

    from app.core.db import session_scope
    from app.models import HumanInputForm, WorkflowRun

    use_integrations(monkeypatch, tmp_path, "tools: {workflows: {review-tool-id: Review}}\n")
    form = {
        "id": "review",
        "type": "human-input",
        "title": "Review",
        "form_content": "Check",
        "inputs": [],
        "user_actions": [{"id": "approve", "title": "Approve"}],
    }
    child = [start("name"), form, end(said=["start", "name"])]
    child_id, _ = await make_app(
        graph_dsl(
            "workflow", child, [("start", "review"), ("review", "end", "approve")], name="Review"
        )
    )
    call = tool(
        "call",
        "review-tool-id",
        "review",
        provider_type="workflow",
        provider_name="review",
        tool_parameters={"name": mixed("{{#start.who#}}")},
    )
    parent = [start("who"), call, end(text=["call", "text"])]
    _, key = await make_app(graph_dsl("workflow", parent, [("start", "call"), ("call", "end")]))
    data = await run(client, key, {"who": "Ada"})
    assert data["status"] == "failed", data
    assert "human input" in data["error"], data
    async with session_scope() as session:
        runs = (
            await session.exec(select(WorkflowRun).where(col(WorkflowRun.app_id) == child_id))
        ).all()
        assert [r.status for r in runs] == ["failed"]
        forms = (
            await session.exec(
                select(HumanInputForm).where(col(HumanInputForm.workflow_run_id) == runs[0].id)
            )
        ).all()
        assert [f.status for f in forms] == ["expired"]


async def test_a_workflow_tool_without_its_app_is_listed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_integrations(monkeypatch, tmp_path, "tools: {}\n")
    nodes = [
        start("x"),
        tool("call", "0f9e-uuid", "missing_app", provider_type="workflow", provider_name="Missing"),
        end(text=["call", "text"]),
    ]
    imported = await import_app(graph_dsl("workflow", nodes, [("start", "call"), ("call", "end")]))
    [problem] = imported.problems
    assert "workflow tool Missing/missing_app is not configured" in problem
    assert "`tools.workflows.Missing`" in problem


async def test_tool_files_are_served_and_chatflows_answer_tool_text(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An image tool's bytes become a file of the run served by its signed URL; an
    advanced-chat answer shows a tool's text."""
    monkeypatch.setattr(get_settings(), "image_generation_provider", "kiln")
    use_integrations(monkeypatch, tmp_path, "tools: {}\n")
    nodes = [
        start("what"),
        tool(
            "draw",
            "langgenius/openai/openai",
            "dalle3",
            tool_configurations={"size": "square", "n": 1, "quality": "standard"},
            tool_parameters={"prompt": mixed("a {{#start.what#}}")},
        ),
        end(files=["draw", "files"]),
    ]
    _, key = await make_app(graph_dsl("workflow", nodes, [("start", "draw"), ("draw", "end")]))
    data = await run(client, key, {"what": "kiln"})
    assert data["status"] == "succeeded", data
    [image] = data["outputs"]["files"]
    assert image["transfer_method"] == "tool_file" and image["mime_type"] == "image/png"
    served = await client.get(image["url"])
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG")

    chat_nodes = [
        {"id": "start", "type": "start", "variables": []},
        tool(
            "parse",
            "json_process",
            "parse",
            tool_parameters={
                "content": mixed('{"reply": "{{#sys.query#}} back"}'),
                "json_filter": {"type": "constant", "value": "$.reply"},
            },
        ),
        {"id": "answer", "type": "answer", "answer": "Tool says: {{#parse.text#}}"},
    ]
    _, chat_key = await make_app(
        graph_dsl("advanced-chat", chat_nodes, [("start", "parse"), ("parse", "answer")])
    )
    resp = await client.post(
        "/v1/chat-messages",
        json={"inputs": {}, "query": "hello", "user": "c1", "response_mode": "blocking"},
        headers=auth(chat_key),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "Tool says: hello back"
