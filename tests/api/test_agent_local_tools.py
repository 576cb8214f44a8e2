"""Agent-chat apps and an agent node calling local HTTP tools through the tool runtime:
an OpenAPI operation of a local API and a tool of a local MCP server, mapped by an
integrations file written for the test; the offline model calls the tool with arguments
shaped like its schema, then answers."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.core.config import get_settings
from app.integrations.tools.runtime import ToolBox
from tests.api.test_agent_tools import AGENT_NODE, agent_app, stored, stream
from tests.support.dsl import graph_dsl, make_app
from tests.support.mcp_server import API_KEY, mcp_servers
from tests.support.openapi_server import BEARER, openapi_server

GET_PET = {
    "enabled": True,
    "provider_id": "3c0e0b9a-0d7e-4b7c-9d1e-2f3a4b5c6d7e",
    "provider_name": "pets",
    "provider_type": "api",
    "tool_label": "getPet",
    "tool_name": "getPet",
    "tool_parameters": {},
}
MCP_ECHO = {
    "enabled": True,
    "provider_id": "docs",
    "provider_name": "docs",
    "provider_type": "mcp",
    "tool_label": "echo",
    "tool_name": "echo",
    "tool_parameters": {},
}


@pytest.fixture(scope="module")
def local_services() -> Iterator[tuple[str, str]]:
    with openapi_server() as api, mcp_servers() as (mcp_http, _):
        yield api, mcp_http


@pytest.fixture
def local_tools(
    local_services: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _SERVER_APPS

    api, mcp_http = local_services
    file = tmp_path / "integrations.yaml"
    tools = {
        "openapi": {
            "pets": {"schema": f"{api}/openapi.yaml", "auth": {"type": "bearer", "token": BEARER}}
        },
        "mcp": {"docs": {"url": mcp_http, "headers": {"X-Api-Key": API_KEY}}},
    }
    file.write_text(yaml.safe_dump({"tools": tools}))
    settings = get_settings().model_copy(
        update={"integrations_file": str(file), "ssrf_allowed_hosts": "127.0.0.1/32"}
    )
    runtime = _SERVER_APPS[-1].state.runtime
    monkeypatch.setattr(runtime, "tools", ToolBox.from_settings(settings, runtime.gateway))


async def test_an_agent_chat_app_calls_an_openapi_operation(
    client: httpx.AsyncClient, local_tools: None
) -> None:
    _, key = await make_app(agent_app([GET_PET]))
    events = await stream(client, key, "Tell me about pet 7")
    saved = next(e for e in events if e["event"] == "agent_thought" and e["tool"])
    arguments = json.loads(saved["tool_input"])["getPet"]
    assert arguments["petId"] == 0 and arguments["X-Trace"] == "echo"  # schema-shaped
    observed = next(e for e in events if e["event"] == "agent_thought" and e["observation"])
    answer = json.loads(json.loads(observed["observation"])["getPet"])
    assert (answer["petId"], answer["trace"]) == ("0", "echo")  # what the local API saw
    assert events[-1]["event"] == "message_end"
    [message] = await stored(client, key, events[-1]["conversation_id"])
    assert message["answer"] == "Echo (turn 1): Tell me about pet 7"


async def test_an_agent_node_calls_an_mcp_tool(
    client: httpx.AsyncClient, local_tools: None
) -> None:
    item: dict[str, Any] = {
        "enabled": True,
        "parameters": {
            "text": {"auto": 1, "value": None},  # the model's
            "times": {"auto": 0, "value": {"type": "constant", "value": 2}},  # set by hand
        },
        "settings": {},
        "provider_name": "docs",
        "tool_name": "echo",
        "type": "mcp",
    }
    parameters = {**AGENT_NODE["agent_parameters"], "tools": {"type": "constant", "value": [item]}}
    dsl = graph_dsl(
        "advanced-chat",
        [
            {"id": "start", "type": "start", "variables": []},
            {**AGENT_NODE, "agent_parameters": parameters},
            {"id": "answer", "type": "answer", "answer": "{{#agent.text#}}"},
        ],
        [("start", "agent"), ("agent", "answer")],
    )
    _, key = await make_app(dsl)
    events = await stream(client, key, "Say something")
    assert events[-2]["data"]["status"] == "succeeded"
    calls = [
        e["data"] for e in events if e["event"] == "agent_log" and e["data"]["label"] == "CALL echo"
    ]
    assert calls[-1]["status"] == "success"
    output = calls[-1]["data"]["output"]
    assert output["tool_call_input"] == {"times": 2, "text": "echo"}
    assert output["tool_response"] == "echo echo"
