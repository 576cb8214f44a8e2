"""Code, template-transform and http-request nodes in a served workflow: the server's own
sandbox runs the code and the template, and its http-request caller refuses an internal
address (the node's default-value strategy takes over)."""

import httpx
import pytest

from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.sse import read_stream


def workflow() -> str:
    nodes = [
        {
            "id": "start",
            "type": "start",
            "variables": [
                {"variable": "name", "label": "Name", "type": "text-input", "required": True}
            ],
        },
        {
            "id": "shout",
            "type": "code",
            "code_language": "python3",
            "code": "def main(name: str) -> dict:\n    return {'loud': name.upper() + '!'}\n",
            "variables": [{"variable": "name", "value_selector": ["start", "name"]}],
            "outputs": {"loud": {"type": "string", "children": None}},
        },
        {
            "id": "fetch",
            "type": "http-request",
            "method": "get",
            "url": "http://169.254.169.254/latest/meta-data/",
            "authorization": {"type": "no-auth", "config": None},
            "headers": "",
            "params": "",
            "body": {"type": "none", "data": []},
            "error_strategy": "default-value",
            "default_value": [{"key": "body", "type": "string", "value": "refused"}],
        },
        {
            "id": "render",
            "type": "template-transform",
            "template": "{{ loud }} / {{ fetched }}",
            "variables": [
                {"variable": "loud", "value_selector": ["shout", "loud"]},
                {"variable": "fetched", "value_selector": ["fetch", "body"]},
            ],
        },
        {
            "id": "end",
            "type": "end",
            "outputs": [
                {"variable": "text", "value_selector": ["render", "output"]},
                {"variable": "why", "value_selector": ["fetch", "error_message"]},
            ],
        },
    ]
    edges = [
        ("start", "shout"),
        ("start", "fetch"),
        ("shout", "render"),
        ("fetch", "render"),
        ("render", "end"),
    ]
    return graph_dsl("workflow", nodes, edges)


async def test_code_template_and_a_refused_request(client: httpx.AsyncClient) -> None:
    _, key = await make_app(workflow())
    body = {"inputs": {"name": "ada"}, "user": "u1", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    finished = events[-1]
    assert finished["event"] == "workflow_finished", finished
    run = finished["data"]
    assert run["status"] == "partial-succeeded", run
    assert run["outputs"]["text"] == "ADA! / refused"
    assert "disallowed address" in run["outputs"]["why"]
    fetch = next(
        e["data"]
        for e in events
        if e["event"] == "node_finished" and e["data"]["node_id"] == "fetch"
    )
    assert fetch["status"] == "exception"
    assert fetch["process_data"]["request"].startswith("GET /latest/meta-data/ HTTP/1.1")


async def test_a_file_response_is_stored_and_served(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An http-request node's file reply becomes a file of the run, served by its signed
    URL like an upload."""
    from http.server import BaseHTTPRequestHandler

    from app.net.http_node import GuardedHttpCaller
    from app.net.ssrf import AllowList
    from tests.conftest import _SERVER_APPS
    from tests.support.files import PNG, loopback_http

    def png(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(len(PNG)))
        handler.end_headers()
        handler.wfile.write(PNG)

    runtime = _SERVER_APPS[-1].state.runtime
    monkeypatch.setattr(runtime, "http_caller", GuardedHttpCaller(AllowList.parse("127.0.0.1/32")))
    with loopback_http(png) as base:
        nodes = [
            {"id": "start", "type": "start", "variables": []},
            {
                "id": "fetch",
                "type": "http-request",
                "method": "get",
                "url": f"{base}/pixel.png",
                "authorization": {"type": "no-auth", "config": None},
                "headers": "",
                "params": "",
                "body": {"type": "none", "data": []},
            },
            {
                "id": "end",
                "type": "end",
                "outputs": [{"variable": "files", "value_selector": ["fetch", "files"]}],
            },
        ]
        _, key = await make_app(
            graph_dsl("workflow", nodes, [("start", "fetch"), ("fetch", "end")])
        )
        resp = await client.post(
            "/v1/workflows/run", json={"inputs": {}, "user": "f1"}, headers=auth(key)
        )
    assert resp.status_code == 200, resp.text
    [file] = resp.json()["data"]["outputs"]["files"]
    assert file["transfer_method"] == "tool_file" and file["mime_type"] == "image/png"
    served = await client.get(file["url"])
    assert served.status_code == 200 and served.content == PNG
