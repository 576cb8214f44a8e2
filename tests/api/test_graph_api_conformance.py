"""Graph apps' Service API held against Dify's contract field by field
(advanced-chat-app-api.mdx, dify-api-behavior.md §6 and §11): what a Dify client sends
and reads, where Kiln once answered otherwise."""

from typing import Any

import httpx
from sqlmodel import select

from app.core.db import session_scope
from app.models import AppVersion
from app.services.apps.importer import update_app
from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.sse import answer_of, parse_frames

START = {"id": "start", "type": "start", "variables": []}


def _chatflow(answer: str) -> str:
    node = {"id": "answer", "type": "answer", "answer": answer}
    return graph_dsl("advanced-chat", [START, node], [("start", "answer")])


def _workflow(text: str) -> str:
    output = {"variable": "text", "value_selector": ["t", "output"]}
    end = {"id": "end", "type": "end", "outputs": [output]}
    template = {"id": "t", "type": "template-transform", "template": text, "variables": []}
    return graph_dsl("workflow", [START, template, end], [("start", "t"), ("t", "end")])


async def _chat(
    client: httpx.AsyncClient, key: str, **body: Any
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    payload = {"inputs": {}, "query": "hi", "user": "conf", "response_mode": "streaming", **body}
    resp = await client.post("/v1/chat-messages", json=payload, headers=auth(key))
    events = parse_frames(resp.text) if resp.status_code == 200 else []
    return resp, [e for e in events if e["event"] != "ping"]


async def test_chat_messages_run_the_workflow_version_named_by_workflow_id(
    client: httpx.AsyncClient,
) -> None:
    app_id, key = await make_app(_chatflow("first version"))
    await update_app(app_id, _chatflow("second version"))
    async with session_scope() as session:
        query = select(AppVersion).where(AppVersion.app_id == app_id).order_by(AppVersion.number)
        first_version = (await session.exec(query)).first().id  # type: ignore[union-attr]

    _, current = await _chat(client, key)
    assert answer_of(current) == "second version"
    _, pinned = await _chat(client, key, workflow_id=first_version)
    assert answer_of(pinned) == "first version"
    assert pinned[0]["data"]["workflow_id"] == first_version

    unknown = "00000000-0000-0000-0000-000000000000"
    resp, _ = await _chat(client, key, workflow_id=unknown)
    assert resp.status_code == 404
    assert resp.json() == {
        "code": "not_found",
        "message": f"Workflow not found with id: {unknown}",
        "status": 404,
    }
    resp, _ = await _chat(client, key, workflow_id="v1")
    assert resp.status_code == 400
    assert resp.json()["code"] == "bad_request"
    assert resp.json()["message"] == "Invalid workflow_id format: 'v1'. Expected a valid UUID."


async def test_a_workflow_id_of_another_app_is_not_found_even_once_it_ran(
    client: httpx.AsyncClient,
) -> None:
    _, key_a = await make_app(_workflow("from app A"))
    _, key_b = await make_app(_workflow("from app B"))
    body = {"inputs": {}, "user": "conf"}
    ran = await client.post("/v1/workflows/run", json=body, headers=auth(key_a))
    assert ran.json()["data"]["outputs"] == {"text": "from app A"}
    version_a = ran.json()["data"]["workflow_id"]  # now compiled and cached in the process

    other = await client.post(f"/v1/workflows/{version_a}/run", json=body, headers=auth(key_b))
    assert other.status_code == 404, other.text
    assert other.json()["message"] == f"Workflow not found with id: {version_a}"
    _, chat_key = await make_app(_chatflow("chat"))
    resp, _ = await _chat(client, chat_key, workflow_id=version_a)
    assert resp.status_code == 404, resp.text


async def test_workflow_started_names_its_reason_on_a_first_start(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(_workflow("hello"))
    body = {"inputs": {}, "user": "conf", "response_mode": "streaming"}
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    started = parse_frames(resp.text)[0]
    assert started["event"] == "workflow_started"
    assert set(started["data"]) == {"id", "workflow_id", "inputs", "created_at", "reason"}
    assert started["data"]["reason"] == "initial"
    _, chat_key = await make_app(_chatflow("hi"))
    _, events = await _chat(client, chat_key)
    assert events[0]["event"] == "workflow_started" and events[0]["data"]["reason"] == "initial"


async def test_workflow_logs_answer_other_modes_with_an_empty_page(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(_chatflow("hi"))
    await _chat(client, key)
    logs = await client.get("/v1/workflows/logs", headers=auth(key))
    assert logs.status_code == 200, logs.text
    assert logs.json() == {"page": 1, "limit": 20, "total": 0, "has_more": False, "data": []}


async def test_finished_events_list_the_files_among_the_outputs(
    client: httpx.AsyncClient,
) -> None:
    end = {
        "id": "end",
        "type": "end",
        "outputs": [
            {"variable": "files", "value_selector": ["sys", "files"]},
            {"variable": "count", "value_selector": ["sys", "user_id"]},
        ],
    }
    upload = {
        "enabled": True,
        "allowed_file_types": ["image"],
        "allowed_file_upload_methods": ["remote_url"],
        "number_limits": 3,
    }
    dsl = graph_dsl("workflow", [START, end], [("start", "end")], file_upload=upload)
    _, key = await make_app(dsl)
    url = "https://files.example.test/cat.png"
    body = {
        "inputs": {},
        "files": [{"type": "image", "transfer_method": "remote_url", "url": url}],
        "user": "conf",
        "response_mode": "streaming",
    }
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    events = [e for e in parse_frames(resp.text) if e["event"] != "ping"]
    finished = events[-1]
    assert finished["event"] == "workflow_finished"
    [listed] = finished["data"]["files"]
    assert listed == finished["data"]["outputs"]["files"][0]
    assert listed["dify_model_identity"] == "__dify__file__" and listed["url"] == url
    node_files = {
        e["data"]["node_id"]: e["data"]["files"] for e in events if e["event"] == "node_finished"
    }
    assert node_files == {"start": [listed], "end": [listed]}  # the start node outputs sys.files


async def test_advanced_chat_message_end_lists_the_answer_s_files(
    client: httpx.AsyncClient,
) -> None:
    start = {
        "id": "start",
        "type": "start",
        "variables": [
            {
                "variable": "pic",
                "label": "Pic",
                "type": "file",
                "required": False,
                "allowed_file_types": ["image"],
                "allowed_file_upload_methods": ["remote_url"],
            }
        ],
    }
    answer = {"id": "answer", "type": "answer", "answer": "Here: {{#start.pic#}}"}
    _, key = await make_app(graph_dsl("advanced-chat", [start, answer], [("start", "answer")]))
    url = "https://files.example.test/dog.png"
    pic = {"type": "image", "transfer_method": "remote_url", "url": url}
    _, events = await _chat(client, key, inputs={"pic": pic})
    end = events[-1]
    assert end["event"] == "message_end"
    [listed] = end["files"]
    assert listed["dify_model_identity"] == "__dify__file__" and listed["url"] == url
    # Stored as the answer's file, as Dify's chatflow stores it: /messages lists it.
    params = {"conversation_id": end["conversation_id"], "user": "conf"}
    [message] = (await client.get("/v1/messages", params=params, headers=auth(key))).json()["data"]
    [stored] = message["message_files"]
    assert (stored["belongs_to"], stored["url"], stored["type"]) == ("assistant", url, "image")
    assert stored["transfer_method"] == "remote_url"
    _, plain_turn = await _chat(client, key)
    assert plain_turn[-1]["event"] == "message_end" and plain_turn[-1]["files"] == []
