"""Webhook triggers over HTTP: `/triggers/webhook/{webhook_id}` as Dify serves it. A call
is checked against its node (method, content type, required headers and fields, types;
Dify's 400 body), answered with the node's status code and body, and starts a run from
the node, recorded with `triggered_from: webhook`; a refused call writes nothing."""

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import UploadFile
from app.services.apps.importer import import_app, update_app
from app.services.apps.versions import rollback
from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.triggers import finished_runs, runs_of, webhook_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dsl"


def _hook(**data: Any) -> dict[str, Any]:
    return {"id": "hook", "type": "trigger-webhook", "title": "Incoming", **data}


def _end(**selectors: list[str]) -> dict[str, Any]:
    outputs = [{"variable": name, "value_selector": s} for name, s in selectors.items()]
    return {"id": "end", "type": "end", "outputs": outputs}


def hook_app(hook: dict[str, Any], **selectors: list[str]) -> str:
    return graph_dsl("workflow", [hook, _end(**selectors)], [("hook", "end")], name="Hooked")


JSON_HOOK = _hook(
    method="post",
    content_type="application/json",
    headers=[{"name": "X-Signature", "type": "string", "required": True}],
    params=[{"name": "page", "type": "number", "required": False}],
    body=[
        {"name": "user", "type": "object", "required": True},
        {"name": "tags", "type": "array[string]", "required": False},
    ],
)
JSON_OUTPUTS = {
    "who": ["hook", "user", "name"],
    "page": ["hook", "page"],
    "signature": ["hook", "X_Signature"],
    "tags": ["hook", "tags"],
    "method": ["hook", "_webhook_raw", "method"],
    "user_id": ["hook", "sys.user_id"],
}


async def _no_trace(app_id: str) -> None:
    """A refused call left nothing: no run, no stored file."""
    assert await runs_of(app_id) == []
    async with session_scope() as session:
        files = (await session.exec(select(UploadFile).where(UploadFile.app_id == app_id))).all()
    assert list(files) == []


async def test_a_json_call_starts_a_run_from_the_webhook(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(hook_app(JSON_HOOK, **JSON_OUTPUTS))
    path = await webhook_path(app_id, "hook")
    assert len(path.rsplit("/", 1)[1]) == 24
    resp = await client.post(
        path + "?page=3&extra=x",
        json={"user": {"name": "Ada"}, "tags": ["a", "b"], "more": 1},
        headers={"X-Signature": "sig-1"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "success", "message": "Webhook processed successfully"}
    [run] = await finished_runs(app_id, 1)
    assert run.triggered_from == "webhook" and run.status == "succeeded", run.error
    assert run.outputs == {
        "who": "Ada",
        "page": 3,
        "signature": "sig-1",
        "tags": ["a", "b"],
        "method": "POST",
        "user_id": "DEFAULT-USER",
    }
    assert run.inputs["webhook_query_params"] == {"page": 3, "extra": "x"}
    assert run.inputs["webhook_body"]["more"] == 1
    assert run.inputs["webhook_data"]["headers"]["X-Signature"] == "sig-1"
    detail = await client.get(f"/v1/workflows/run/{run.id}", headers=auth(key))
    assert detail.status_code == 200 and detail.json()["status"] == "succeeded"
    # Dify logs API and web-app runs only: a triggered run is not in the app's logs.
    logs = await client.get("/v1/workflows/logs", headers=auth(key))
    assert logs.json()["data"] == []


async def test_the_configured_answer(client: httpx.AsyncClient) -> None:
    for body, expected in (
        ('{"received": true}', {"received": True}),
        ("thanks", {"message": "thanks"}),
    ):
        hook = _hook(method="get", status_code=202, response_body=body)
        app_id, _ = await make_app(hook_app(hook, method=["hook", "_webhook_raw", "method"]))
        resp = await client.get(await webhook_path(app_id, "hook"))
        assert (resp.status_code, resp.json()) == (202, expected)
        [run] = await finished_runs(app_id, 1)
        assert run.outputs == {"method": "GET"}


async def test_refused_calls_answer_difys_400_and_write_nothing(
    client: httpx.AsyncClient,
) -> None:
    app_id, _ = await make_app(hook_app(JSON_HOOK, **JSON_OUTPUTS))
    path = await webhook_path(app_id, "hook")
    sig = {"X-Signature": "s"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"method": "GET"}, "HTTP method mismatch. Expected POST, got GET"),
        (
            {"content": b"hi", "headers": {**sig, "Content-Type": "text/plain"}},
            "Content-type mismatch. Expected application/json, got text/plain",
        ),
        ({"json": {"user": {}}}, "Required header missing: X-Signature"),
        ({"json": {"tags": []}, "headers": sig}, "Required body parameter missing: user"),
        (
            {"json": {"user": "Ada"}, "headers": sig},
            "Parameter 'user' validation failed: Expected object, got str",
        ),
        (
            {"json": {"user": {}}, "headers": sig, "params": {"page": "x"}},
            "Parameter 'page' validation failed: Cannot convert 'x' to number",
        ),
        (
            {"json": {"user": {"name": "a\u0000b"}}, "headers": sig},
            "Invalid parameter: text must not contain NUL (\\u0000) characters.",
        ),
    ]
    for options, message in cases:
        method = options.pop("method", "POST")
        resp = await client.request(method, path, **options)
        assert resp.status_code == 400, (message, resp.text)
        assert resp.json() == {"error": "Bad Request", "message": message}
    bad_json = await client.post(
        path, content=b'{"user": ', headers={**sig, "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["message"].startswith("Invalid JSON body: ")
    await _no_trace(app_id)


async def test_a_webhook_node_kiln_cannot_read_answers_why(client: httpx.AsyncClient) -> None:
    imported = await import_app(hook_app(_hook(content_type="application/xml")))
    assert imported.problems == (
        "fails when reached: node hook (Incoming): webhook content type 'application/xml' "
        "is not supported",
    )
    resp = await client.get(await webhook_path(imported.app.id, "hook"))
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "Bad Request",
        "message": "webhook content type 'application/xml' is not supported",
    }
    await _no_trace(imported.app.id)


async def test_an_unknown_webhook_is_a_404(client: httpx.AsyncClient) -> None:
    resp = await client.post("/triggers/webhook/no-such-webhook-id-12345", json={})
    assert resp.status_code == 404
    assert resp.json() == {
        "code": "not_found",
        "message": "Webhook not found: no-such-webhook-id-12345",
        "status": 404,
    }


async def _raw_post(server: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """A request on a bare connection: the answer to the end (a 413 closes it), though
    the body is not read whole."""
    url = urlsplit(server)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_a_body_over_the_limit_is_a_413(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_request_body_max_size", 1000)
    hook = _hook(method="post", content_type="multipart/form-data")
    app_id, _ = await make_app(hook_app(hook))
    path = await webhook_path(app_id, "hook")
    for headers, body in (
        ({"Content-Type": "multipart/form-data; boundary=x", "Content-Length": "1001"}, b""),
        ({"Content-Type": "text/plain", "Transfer-Encoding": "chunked"}, b"7d1\r\n" + b"x" * 1001),
    ):
        raw = await _raw_post(server, path, headers, body)
        status, _, payload = raw.partition(b"\r\n\r\n")
        assert status.split()[1] == b"413", raw
        assert json.loads(payload)["code"] == "request_entity_too_large"
    await _no_trace(app_id)


async def test_form_text_and_head_calls(client: httpx.AsyncClient) -> None:
    form = _hook(
        method="put",
        content_type="application/x-www-form-urlencoded",
        body=[{"name": "n", "type": "number"}, {"name": "ok", "type": "boolean"}],
    )
    app_id, _ = await make_app(hook_app(form, n=["hook", "n"], ok=["hook", "ok"]))
    resp = await client.put(await webhook_path(app_id, "hook"), data={"n": "2.5", "ok": "true"})
    assert resp.status_code == 200, resp.text
    [run] = await finished_runs(app_id, 1)
    assert run.outputs == {"n": 2.5, "ok": True}

    text = _hook(method="post", content_type="text/plain", body=[{"name": "note"}])
    app_id, _ = await make_app(hook_app(text, note=["hook", "note"]))
    resp = await client.post(
        await webhook_path(app_id, "hook"),
        content="héllo".encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert resp.status_code == 200, resp.text
    [run] = await finished_runs(app_id, 1)
    assert run.outputs == {"note": "héllo"}

    head = _hook(method="head", headers=[{"name": "X-Ping"}])
    app_id, _ = await make_app(hook_app(head, ping=["hook", "X_Ping"]))
    resp = await client.head(await webhook_path(app_id, "hook"), headers={"x-ping": "1"})
    assert resp.status_code == 200 and resp.content == b""
    [run] = await finished_runs(app_id, 1)
    assert run.outputs == {"ping": "1"}


async def test_a_malformed_form_is_refused(client: httpx.AsyncClient) -> None:
    hook = _hook(method="post", content_type="multipart/form-data", body=[{"name": "a"}])
    app_id, _ = await make_app(hook_app(hook))
    resp = await client.post(
        await webhook_path(app_id, "hook"),
        content=b"--x\r\nnot a part",
        headers={"Content-Type": "multipart/form-data"},
    )
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("Invalid multipart body: ")
    await _no_trace(app_id)


async def test_files_in_a_form_and_an_octet_stream_body(client: httpx.AsyncClient) -> None:
    form = _hook(
        method="post",
        content_type="multipart/form-data",
        body=[{"name": "title"}, {"name": "doc", "type": "file", "required": True}],
    )
    outputs = {"title": ["hook", "title"], "name": ["hook", "doc", "name"]}
    app_id, _ = await make_app(hook_app(form, **outputs, size=["hook", "doc", "size"]))
    path = await webhook_path(app_id, "hook")
    resp = await client.post(
        path, data={"title": "Report"}, files={"doc": ("report.txt", b"hello", "text/plain")}
    )
    assert resp.status_code == 200, resp.text
    [run] = await finished_runs(app_id, 1)
    assert run.outputs == {"title": "Report", "name": "report.txt", "size": 5}
    stored = run.inputs["webhook_data"]["files"]["doc"]
    assert stored["transfer_method"] == "tool_file" and stored["url"].startswith("/files/")
    preview = await client.get(stored["url"])
    assert preview.status_code == 200 and preview.content == b"hello"

    binary = _hook(method="post", content_type="application/octet-stream", body=[{"name": "blob"}])
    app_id, _ = await make_app(hook_app(binary, size=["hook", "blob", "size"]))
    resp = await client.post(
        await webhook_path(app_id, "hook"),
        content=b"\x00\x01\x02",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert resp.status_code == 200, resp.text
    [run] = await finished_runs(app_id, 1)
    assert run.outputs == {"size": 3}


async def test_start_beside_a_webhook_each_run_skips_the_other_entry(
    client: httpx.AsyncClient,
) -> None:
    start = {
        "id": "start",
        "type": "start",
        "variables": [{"variable": "name", "label": "Name", "type": "text-input"}],
    }
    join = {
        "id": "join",
        "type": "variable-aggregator",
        "variables": [["start", "name"], ["hook", "name"]],
    }
    hook = _hook(method="post", body=[{"name": "name"}])
    end = _end(value=["join", "output"])
    text = graph_dsl(
        "workflow",
        [start, hook, join, end],
        [("start", "join"), ("hook", "join"), ("join", "end")],
    )
    app_id, key = await make_app(text)
    body = {"inputs": {"name": "by api"}, "user": "u"}
    by_api = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert by_api.status_code == 200, by_api.text
    assert by_api.json()["data"]["outputs"] == {"value": "by api"}
    resp = await client.post(await webhook_path(app_id, "hook"), json={"name": "by hook"})
    assert resp.status_code == 200, resp.text
    runs = await finished_runs(app_id, 2)
    triggered = [r for r in runs if r.triggered_from == "webhook"]
    assert [r.outputs for r in triggered] == [{"value": "by hook"}]
    assert [r.triggered_from for r in runs] == ["app-run", "webhook"]


async def test_a_trigger_only_app_is_refused_by_api(client: httpx.AsyncClient) -> None:
    _, key = await make_app(hook_app(_hook(method="post")))
    resp = await client.post(
        "/v1/workflows/run", json={"inputs": {}, "user": "u"}, headers=auth(key)
    )
    assert resp.status_code == 400
    data = resp.json()
    assert data["code"] == "app_unavailable"
    assert data["message"] == (
        "This workflow starts only from triggers (trigger-webhook node hook (Incoming)) and "
        "has no start node: it runs when its webhook is called or its schedule fires, not "
        "by API."
    )
    params = await client.get("/v1/parameters", headers=auth(key))
    assert params.status_code == 200 and params.json()["user_input_form"] == []


async def test_the_webhook_id_stays_with_its_node(client: httpx.AsyncClient) -> None:
    first = hook_app(_hook(method="post"), method=["hook", "_webhook_raw", "method"])
    app_id, _ = await make_app(first)
    path = await webhook_path(app_id, "hook")
    changed = hook_app(_hook(method="put"), method=["hook", "_webhook_raw", "method"])
    await update_app(app_id, changed)
    assert await webhook_path(app_id, "hook") == path
    assert (await client.put(path)).status_code == 200
    assert (await client.post(path)).json()["message"] == (
        "HTTP method mismatch. Expected PUT, got POST"
    )
    # A version without the node: its URL is gone; back to one with it: the same URL.
    start_only = graph_dsl(
        "workflow", [{"id": "start", "type": "start"}, _end()], [("start", "end")]
    )
    await update_app(app_id, start_only)
    assert (await client.put(path)).status_code == 404
    await rollback(app_id, "2")
    assert await webhook_path(app_id, "hook") == path
    assert (await client.put(path)).status_code == 200
    await finished_runs(app_id, 2)


async def test_a_dify_export_with_triggers_is_served(client: httpx.AsyncClient) -> None:
    """A Dify-shaped export (webhook and schedule feeding one aggregator, URLs cleared by
    the export) imports cleanly and answers its webhook as configured."""
    text = (FIXTURES / "workflow_triggers_v0_5_0.yml").read_text(encoding="utf-8")
    imported = await import_app(text)
    assert imported.problems == ()
    app_id = imported.app.id
    path = await webhook_path(app_id, "1764000000001")
    refused = await client.post(path, json={"order_id": "A-1"})
    assert refused.json() == {
        "error": "Bad Request",
        "message": "Required header missing: X-Shop-Token",
    }
    resp = await client.post(
        path, json={"order_id": "A-1", "items": [{"sku": "x"}]}, headers={"x-shop-token": "t"}
    )
    assert (resp.status_code, resp.json()) == (202, {"accepted": True})
    [run] = await finished_runs(app_id, 1)
    assert run.status == "succeeded" and run.outputs == {"event": "A-1"}
