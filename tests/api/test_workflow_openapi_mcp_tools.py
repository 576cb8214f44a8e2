"""OpenAPI and MCP tool nodes in a served workflow (`POST /v1/workflows/run`): the
operator's integrations file (in a temp dir) maps the export's `api` provider to a local
API's OpenAPI document and its `mcp` provider to a local MCP server; the tools' JSON, text,
files and variables reach the end node, and a tool the file does not name fails its node
with the setting that would enable it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.core.config import get_settings
from app.integrations.tools.runtime import ToolBox
from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.mcp_server import API_KEY, mcp_servers
from tests.support.openapi_server import BEARER, openapi_server


@pytest.fixture(scope="module")
def local_services() -> Iterator[tuple[str, str, str]]:
    with openapi_server() as api, mcp_servers() as (mcp_http, mcp_sse):
        yield api, mcp_http, mcp_sse


@pytest.fixture
def tools(
    local_services: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The served runtime's tools, built from an integrations file in a temp dir."""
    from tests.conftest import _SERVER_APPS

    api, mcp_http, mcp_sse = local_services
    file = tmp_path / "integrations.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "tools": {
                    "openapi": {
                        "pets": {
                            "schema": f"{api}/openapi.yaml",
                            "auth": {"type": "bearer", "token": BEARER},
                        }
                    },
                    "mcp": {
                        "docs": {"url": mcp_http, "headers": {"X-Api-Key": API_KEY}},
                        "Docs over SSE": {
                            "url": mcp_sse,
                            "transport": "sse",
                            "headers": {"X-Api-Key": API_KEY},
                        },
                    },
                }
            }
        )
    )
    settings = get_settings().model_copy(
        update={"integrations_file": str(file), "ssrf_allowed_hosts": "127.0.0.1/32"}
    )
    runtime = _SERVER_APPS[-1].state.runtime
    monkeypatch.setattr(runtime, "tools", ToolBox.from_settings(settings, runtime.gateway))


def tool(
    node_id: str, provider_type: str, provider_id: str, name: str, tool_name: str, **params: Any
) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "tool",
        "title": node_id,
        "provider_type": provider_type,
        "provider_id": provider_id,
        "provider_name": name,
        "tool_name": tool_name,
        "tool_label": tool_name,
        "tool_configurations": {},
        "tool_parameters": params,
    }


def workflow() -> str:
    nodes = [
        {
            "id": "start",
            "type": "start",
            "variables": [
                {"variable": "pet", "label": "Pet", "type": "text-input", "required": True}
            ],
        },
        tool(
            "pet",
            "api",
            "1f0c7a52-4d0e-4c1b-9a55-6e0f7d2b9c11",  # a Dify UUID: matched by the name
            "pets",
            "getPet",
            petId={"type": "mixed", "value": "{{#start.pet#}}"},
            **{"X-Trace": {"type": "constant", "value": "trace-7"}},
        ),
        tool("secure", "api", "1f0c7a52-4d0e-4c1b-9a55-6e0f7d2b9c11", "pets", "bearerOnly"),
        tool("report", "api", "1f0c7a52-4d0e-4c1b-9a55-6e0f7d2b9c11", "pets", "report"),
        tool(
            "echo",
            "mcp",
            "docs",
            "Docs",
            "echo",
            text={"type": "mixed", "value": "pet {{#start.pet#}}"},
            times={"type": "constant", "value": 2},
        ),
        tool(
            "forecast",
            "mcp",
            "sse-docs",
            "Docs over SSE",
            "forecast",
            city={"type": "constant", "value": "Oslo"},
        ),  # fmt: skip
        {
            **tool("missing", "mcp", "nowhere", "Nowhere", "anything"),
            "error_strategy": "default-value",
            "default_value": [],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [
                {"variable": "pet", "value_selector": ["pet", "json"]},
                {"variable": "secure", "value_selector": ["secure", "json"]},
                {"variable": "report", "value_selector": ["report", "files"]},
                {"variable": "echo", "value_selector": ["echo", "text"]},
                {"variable": "high", "value_selector": ["forecast", "high"]},
                {"variable": "missing", "value_selector": ["missing", "error_message"]},
            ],
        },
    ]
    chain = ["start", "pet", "secure", "report", "echo", "forecast", "missing", "end"]
    return graph_dsl("workflow", nodes, list(zip(chain, chain[1:], strict=False)))


async def test_openapi_and_mcp_tool_nodes_run_in_a_served_workflow(
    client: httpx.AsyncClient, tools: None
) -> None:
    _, key = await make_app(workflow())
    resp = await client.post(
        "/v1/workflows/run",
        json={"inputs": {"pet": "42"}, "user": "tools-1", "response_mode": "blocking"},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert data["status"] == "partial-succeeded", data
    outputs = data["outputs"]
    [pet] = outputs["pet"]
    assert pet["petId"] == "42" and pet["trace"] == "trace-7"
    assert outputs["secure"] == [{"authorized": True}]
    [report] = outputs["report"]
    assert report["mime_type"] == "text/csv" and report["transfer_method"] == "tool_file"
    served = await client.get(report["url"])
    assert served.status_code == 200 and served.content == b"a,b\n1,2\n"
    assert outputs["echo"] == "pet 42 pet 42"
    assert outputs["high"] == 21
    assert "MCP tool Nowhere/anything is not configured" in outputs["missing"]
    assert "`tools.mcp.Nowhere`" in outputs["missing"]
