"""Graph apps over HTTP: `POST /v1/workflows/run` (blocking and streaming), the run's
record, logs, stop; advanced-chat through `/v1/chat-messages`."""

import re

import httpx

from tests.support.dsl import auth, file_start, graph_dsl, make_app
from tests.support.sse import read_stream

START = {
    "id": "start",
    "type": "start",
    "variables": [
        {"variable": "name", "label": "Name", "type": "text-input", "required": True},
        {"variable": "n", "label": "N", "type": "number", "required": False},
    ],
}


def echo_workflow() -> str:
    end = {
        "id": "end",
        "type": "end",
        "outputs": [
            {"variable": "greeting", "value_selector": ["start", "name"]},
            {"variable": "count", "value_selector": ["start", "n"]},
        ],
    }
    return graph_dsl("workflow", [START, end], [("start", "end")])


async def test_blocking_run_answers_dify_body_and_is_stored(client: httpx.AsyncClient) -> None:
    _, key = await make_app(echo_workflow())
    body = {"inputs": {"name": "Ada", "n": "3"}, "user": "u1", "response_mode": "blocking"}
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert set(data) == {"task_id", "workflow_run_id", "data"}
    run = data["data"]
    assert run["status"] == "succeeded" and run["error"] is None
    assert run["outputs"] == {"greeting": "Ada", "count": 3}
    assert run["total_steps"] == 2 and run["id"] == data["workflow_run_id"]
    stored = await client.get(f"/v1/workflows/run/{run['id']}", headers=auth(key))
    assert stored.status_code == 200, stored.text
    detail = stored.json()
    assert detail["status"] == "succeeded" and detail["outputs"] == run["outputs"]
    assert isinstance(detail["inputs"], str) and '"Ada"' in detail["inputs"]
    logs = await client.get("/v1/workflows/logs", headers=auth(key))
    assert logs.status_code == 200, logs.text
    [log] = logs.json()["data"]
    assert log["workflow_run"]["id"] == run["id"]
    # Dify names the version that ran by its publish time (a naive UTC datetime's str).
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", log["workflow_run"]["version"])
    assert log["created_by_end_user"]["session_id"] == "u1"


async def test_streaming_run_events(client: httpx.AsyncClient) -> None:
    _, key = await make_app(echo_workflow())
    body = {"inputs": {"name": "Bo"}, "user": "u2", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    names = [e["event"] for e in events]
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished", names
    assert names.count("node_started") == 2 and names.count("node_finished") == 2
    assert "text_chunk" in names
    finished = events[-1]
    assert finished["data"]["outputs"] == {"greeting": "Bo", "count": None}
    chunks = "".join(e["data"]["text"] for e in events if e["event"] == "text_chunk")
    assert chunks == "Bo\n"


async def test_inputs_are_checked_and_modes_refused(client: httpx.AsyncClient) -> None:
    _, key = await make_app(echo_workflow())
    resp = await client.post(
        "/v1/workflows/run", json={"inputs": {}, "user": "u3"}, headers=auth(key)
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_param"
    assert resp.json()["message"] == "name is required in input form"
    chat = await client.post(
        "/v1/chat-messages", json={"inputs": {}, "query": "hi", "user": "u3"}, headers=auth(key)
    )
    assert chat.status_code == 400 and chat.json()["code"] == "not_chat_app"


async def test_advanced_chat_answers_on_chat_messages(client: httpx.AsyncClient) -> None:
    answer = {"id": "answer", "type": "answer", "answer": "You said: {{#sys.query#}}"}
    start = {"id": "start", "type": "start", "variables": []}
    _, key = await make_app(graph_dsl("advanced-chat", [start, answer], [("start", "answer")]))
    body = {"inputs": {}, "query": "hello", "user": "u4", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["answer"] == "You said: hello" and data["mode"] == "advanced-chat"
    messages = await client.get(
        "/v1/messages",
        params={"conversation_id": data["conversation_id"], "user": "u4"},
        headers=auth(key),
    )
    assert messages.json()["data"][0]["answer"] == "You said: hello"
    body["response_mode"] = "streaming"
    body["conversation_id"] = data["conversation_id"]
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        _, events = await read_stream(resp)
    names = [e["event"] for e in events]
    assert names[0] == "workflow_started" and names[-2:] == ["workflow_finished", "message_end"]
    assert "".join(e["answer"] for e in events if e["event"] == "message") == "You said: hello"
    assert all(e["conversation_id"] == data["conversation_id"] for e in events)


async def test_conversation_variables_are_seeded_and_listed(client: httpx.AsyncClient) -> None:
    variables = [
        {
            "id": "3f8a3c4e-0000-4000-8000-000000000001",
            "name": "topic",
            "value_type": "string",
            "value": "tea",
            "description": "what we talk about",
        },
        {
            "id": "3f8a3c4e-0000-4000-8000-000000000002",
            "name": "count",
            "value_type": "number",
            "value": 2,
            "description": "",
        },
    ]
    start = {"id": "start", "type": "start", "variables": []}
    answer = {
        "id": "answer",
        "type": "answer",
        "answer": "{{#conversation.topic#}}×{{#conversation.count#}}",
    }
    dsl = graph_dsl(
        "advanced-chat", [start, answer], [("start", "answer")], conversation_variables=variables
    )
    _, key = await make_app(dsl)
    body = {"inputs": {}, "query": "hi", "user": "cv", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "tea×2"
    conversation_id = resp.json()["conversation_id"]
    listed = await client.get(
        f"/v1/conversations/{conversation_id}/variables", params={"user": "cv"}, headers=auth(key)
    )
    assert listed.status_code == 200, listed.text
    rows = listed.json()["data"]
    assert [(r["name"], r["value_type"], r["value"]) for r in rows] == [
        ("topic", "string", "tea"),
        ("count", "number", "2"),
    ]
    variable_id = rows[0]["id"]
    updated = await client.put(
        f"/v1/conversations/{conversation_id}/variables/{variable_id}",
        json={"value": "coffee", "user": "cv"},
        headers=auth(key),
    )
    assert updated.status_code == 200, updated.text
    body["conversation_id"] = conversation_id
    again = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert again.json()["answer"] == "coffee×2"


async def test_an_app_that_cannot_run_names_the_node(client: httpx.AsyncClient) -> None:
    start = {"id": "start", "type": "start", "variables": []}
    loop_a = {"id": "a", "type": "answer", "answer": "a"}
    loop_b = {"id": "b", "type": "answer", "answer": "b"}
    dsl = graph_dsl(
        "advanced-chat", [start, loop_a, loop_b], [("start", "a"), ("a", "b"), ("b", "a")]
    )
    _, key = await make_app(dsl)
    body = {"inputs": {}, "query": "hi", "user": "x", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 400
    error = resp.json()
    assert error["code"] == "app_unavailable"
    assert "cycle" in error["message"] and "node" in error["message"]


async def test_a_node_kiln_cannot_run_fails_the_run_with_its_name(
    client: httpx.AsyncClient,
) -> None:
    start = {"id": "start", "type": "start", "variables": []}
    tool = {"id": "search", "type": "tool", "title": "Web search", "provider_id": "tavily"}
    answer = {"id": "answer", "type": "answer", "answer": "done"}
    _, key = await make_app(
        graph_dsl(
            "advanced-chat", [start, tool, answer], [("start", "search"), ("search", "answer")]
        )
    )
    body = {"inputs": {}, "query": "hi", "user": "x", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        _, events = await read_stream(resp)
    names = [e["event"] for e in events]
    assert names[-2:] == ["workflow_finished", "error"], names
    assert events[-2]["data"]["status"] == "failed"
    error = events[-1]
    assert error["code"] == "invalid_param" and error["status"] == 400
    assert error["message"].startswith("Run failed: Node Web search (tool) cannot run")
    blocking = await client.post(
        "/v1/chat-messages", json={**body, "response_mode": "blocking"}, headers=auth(key)
    )
    assert blocking.status_code == 400 and blocking.json()["code"] == "invalid_param"


async def test_workflow_endpoints_refuse_other_modes_and_unknown_runs(
    client: httpx.AsyncClient,
) -> None:
    from tests.support.dsl import chat_dsl

    _, chat_key = await make_app(chat_dsl())
    run = await client.post(
        "/v1/workflows/run", json={"inputs": {}, "user": "m"}, headers=auth(chat_key)
    )
    assert run.status_code == 400 and run.json()["code"] == "not_workflow_app"
    _, key = await make_app(echo_workflow())
    missing = await client.get(
        "/v1/workflows/run/00000000-0000-0000-0000-000000000000", headers=auth(key)
    )
    assert missing.status_code == 404 and missing.json()["message"] == "Workflow run not found."
    no_user = await client.post("/v1/workflows/run", json={"inputs": {}}, headers=auth(key))
    assert no_user.status_code == 400 and no_user.json()["code"] == "invalid_param"


async def test_parameters_come_from_the_start_node(client: httpx.AsyncClient) -> None:
    _, key = await make_app(echo_workflow())
    resp = await client.get("/v1/parameters", headers=auth(key))
    assert resp.status_code == 200, resp.text
    form = resp.json()["user_input_form"]
    assert [list(item)[0] for item in form] == ["text-input", "number"]
    assert form[0]["text-input"]["variable"] == "name"


async def test_files_as_inputs_and_request_files(client: httpx.AsyncClient) -> None:
    from tests.support.files import PDF, upload

    start = file_start("local_file", "remote_url")
    end = {
        "id": "end",
        "type": "end",
        "outputs": [
            {"variable": "name", "value_selector": ["start", "doc", "name"]},
            {"variable": "ext", "value_selector": ["start", "doc", "extension"]},
            {"variable": "files", "value_selector": ["sys", "files"]},
        ],
    }
    upload_feature = {
        "enabled": True,
        "allowed_file_types": ["image", "document"],
        "allowed_file_upload_methods": ["remote_url"],
        "number_limits": 3,
    }
    _, key = await make_app(
        graph_dsl("workflow", [start, end], [("start", "end")], file_upload=upload_feature)
    )
    uploaded = await upload(client, key, PDF, "report.pdf", "application/pdf", user="fu")
    assert uploaded.status_code == 201, uploaded.text
    body = {
        "inputs": {
            "doc": {
                "type": "document",
                "transfer_method": "local_file",
                "upload_file_id": uploaded.json()["id"],
            }
        },
        "files": [
            {
                "type": "image",
                "transfer_method": "remote_url",
                "url": "https://files.example.test/cat.png",
            }
        ],
        "user": "fu",
    }
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    outputs = resp.json()["data"]["outputs"]
    assert outputs["name"] == "report.pdf" and outputs["ext"] == ".pdf"
    [request_file] = outputs["files"]
    assert request_file["dify_model_identity"] == "__dify__file__"
    assert request_file["url"] == "https://files.example.test/cat.png"
    wrong = {
        **body,
        "inputs": {
            "doc": {
                "type": "image",
                "transfer_method": "remote_url",
                "url": "https://files.example.test/x.png",
            }
        },
    }
    refused = await client.post("/v1/workflows/run", json=wrong, headers=auth(key))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_param"
