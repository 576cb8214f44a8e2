"""Human input over HTTP, as Dify's service API answers it: a run that reaches a
human-input node streams `human_input_required` and `workflow_paused` and ends; its form
is read and submitted by token; the submission resumes the run (same workflow_run_id) to
its end, followed through `GET /v1/workflow/{id}/events`; a second submission, an unknown
token and an expired form get Dify's errors; blocking requests answer the pause; a stop
ends a paused run."""

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import col, update

from app.core.db import session_scope
from app.models import Message, WorkflowPause, WorkflowRun
from tests.conftest import _SERVER_APPS
from tests.support.dsl import auth, file_start, graph_dsl, make_app
from tests.support.sse import read_stream

START = {
    "id": "start",
    "type": "start",
    "variables": [{"variable": "name", "label": "Name", "type": "text-input", "required": True}],
}


def _form(timeout: int = 1) -> dict[str, Any]:
    return {
        "id": "review",
        "type": "human-input",
        "title": "Review",
        "form_content": "Check {{#start.name#}}: {{#$output.note#}}",
        "inputs": [
            {
                "type": "paragraph",
                "output_variable_name": "note",
                "default": {"type": "variable", "selector": ["start", "name"], "value": ""},
            }
        ],
        "user_actions": [
            {"id": "approve", "title": "Approve", "button_style": "primary"},
            {"id": "reject", "title": "Reject"},
        ],
        "timeout": timeout,
        "timeout_unit": "hour",
    }


def _end(node_id: str, selector: list[str]) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "end",
        "outputs": [{"variable": "result", "value_selector": selector}],
    }


def workflow_app(timeout: int = 1) -> str:
    nodes = [
        START,
        _form(timeout),
        _end("yes", ["review", "note"]),
        _end("no", ["review", "__action_value"]),
        _end("late", ["review", "__action_id"]),
    ]
    edges = [
        ("start", "review"),
        ("review", "yes", "approve"),
        ("review", "no", "reject"),
        ("review", "late", "__timeout"),
    ]
    return graph_dsl("workflow", nodes, edges)


def chat_app() -> str:
    nodes = [
        {"id": "start", "type": "start", "variables": []},
        {"id": "first", "type": "answer", "answer": "Asked. "},
        {**_form(), "form_content": "Q: {{#sys.query#}}"},
        {"id": "then", "type": "answer", "answer": "Note: {{#review.note#}}"},
    ]
    edges = [("start", "first"), ("first", "review"), ("review", "then", "approve")]
    return graph_dsl("advanced-chat", nodes, edges)


async def _run(client: httpx.AsyncClient, key: str, user: str) -> list[dict[str, Any]]:
    body = {"inputs": {"name": "Ada"}, "user": user, "response_mode": "streaming"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    return events


async def _events(
    client: httpx.AsyncClient, key: str, run_id: str, user: str
) -> list[dict[str, Any]]:
    url = f"/v1/workflow/{run_id}/events"
    async with client.stream("GET", url, params={"user": user}, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    return events


async def _until_finished(client: httpx.AsyncClient, key: str, run_id: str) -> dict[str, Any]:
    for _ in range(200):
        detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
        if detail["status"] not in ("running", "paused"):
            return dict(detail)
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")


async def test_a_run_pauses_then_resumes_on_submission(client: httpx.AsyncClient) -> None:
    _, key = await make_app(workflow_app())
    events = await _run(client, key, "hi-1")
    names = [e["event"] for e in events]
    assert names[-2:] == ["human_input_required", "workflow_paused"], names
    assert "workflow_finished" not in names
    required, paused = events[-2], events[-1]
    run_id = required["workflow_run_id"]
    form = required["data"]
    assert form["node_id"] == "review" and form["node_title"] == "Review"
    assert form["form_content"] == "Check Ada: {{#$output.note#}}"
    assert form["actions"][0] == {"id": "approve", "title": "Approve", "button_style": "primary"}
    assert form["resolved_default_values"] == {"note": "Ada"}
    assert form["display_in_ui"] is True and isinstance(form["expiration_time"], int)
    token = form["form_token"]
    assert paused["data"]["paused_nodes"] == ["review"]
    assert paused["data"]["status"] == "paused"
    assert paused["data"]["reasons"][0]["TYPE"] == "human_input_required"
    assert paused["data"]["reasons"][0]["form_token"] == token
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert detail["status"] == "paused"
    waiting = await _events(client, key, run_id, "hi-1")
    assert [e["event"] for e in waiting] == ["human_input_required", "workflow_paused"]

    shown = await client.get(f"/v1/form/human_input/{token}", headers=auth(key))
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "form_content": "Check Ada: {{#$output.note#}}",
        "inputs": form["inputs"],
        "resolved_default_values": {"note": "Ada"},
        "user_actions": form["actions"],
        "expiration_time": form["expiration_time"],
    }

    bad = await client.post(
        f"/v1/form/human_input/{token}",
        json={"inputs": {"note": "x"}, "action": "maybe", "user": "hi-1"},
        headers=auth(key),
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_form_data"
    assert bad.json()["message"] == "Invalid action: maybe"
    missing = await client.post(
        f"/v1/form/human_input/{token}",
        json={"inputs": {}, "action": "approve", "user": "hi-1"},
        headers=auth(key),
    )
    assert (
        missing.status_code == 400 and missing.json()["message"] == "Missing required inputs: note"
    )

    submit = {"inputs": {"note": "looks good"}, "action": "approve", "user": "hi-1"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    assert done.json() == {}
    after = await _events(client, key, run_id, "hi-1")
    assert after[-1]["event"] == "workflow_finished"
    assert after[-1]["workflow_run_id"] == run_id
    finished = await _until_finished(client, key, run_id)
    assert finished["status"] == "succeeded"
    assert finished["outputs"] == {"result": "looks good"}
    assert finished["id"] == run_id

    again = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert again.status_code == 412, again.text
    assert again.json()["code"] == "human_input_form_submitted"
    gone = await client.get(f"/v1/form/human_input/{token}", headers=auth(key))
    assert gone.status_code == 412 and gone.json()["code"] == "human_input_form_submitted"


async def test_unknown_token_and_other_apps_are_not_found(client: httpx.AsyncClient) -> None:
    _, key = await make_app(workflow_app())
    _, other = await make_app(workflow_app())
    events = await _run(client, key, "hi-2")
    token = events[-2]["data"]["form_token"]
    unknown = await client.get("/v1/form/human_input/nope", headers=auth(key))
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "not_found", "message": "Form not found", "status": 404}
    elsewhere = await client.get(f"/v1/form/human_input/{token}", headers=auth(other))
    assert elsewhere.status_code == 404
    post = await client.post(
        "/v1/form/human_input/nope",
        json={"inputs": {}, "action": "approve", "user": "hi-2"},
        headers=auth(key),
    )
    assert post.status_code == 404


async def test_an_expired_form_is_refused_and_its_run_times_out(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(workflow_app(timeout=0))  # expires as it is made
    events = await _run(client, key, "hi-3")
    run_id = events[-1]["workflow_run_id"]
    token = events[-2]["data"]["form_token"]
    shown = await client.get(f"/v1/form/human_input/{token}", headers=auth(key))
    assert shown.status_code == 412, shown.text
    assert shown.json()["code"] == "human_input_form_expired"
    assert shown.json()["message"].startswith("This form has expired, form_id=")
    submit = {"inputs": {"note": "late"}, "action": "approve", "user": "hi-3"}
    late = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert late.status_code == 412 and late.json()["code"] == "human_input_form_expired"
    finished = await _until_finished(client, key, run_id)  # the sweeper resumes it
    assert finished["status"] == "succeeded"
    assert finished["outputs"] == {"result": ""}  # the __timeout branch


async def test_blocking_run_answers_the_pause(client: httpx.AsyncClient) -> None:
    _, key = await make_app(workflow_app())
    body = {"inputs": {"name": "Bo"}, "user": "hi-4", "response_mode": "blocking"}
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert set(data) == {"task_id", "workflow_run_id", "data"}
    assert data["data"]["status"] == "paused"
    assert data["data"]["paused_nodes"] == ["review"]
    assert data["data"]["reasons"][0]["form_token"]


async def test_stopping_a_paused_run_ends_it(client: httpx.AsyncClient) -> None:
    _, key = await make_app(workflow_app())
    events = await _run(client, key, "hi-5")
    run_id, task_id = events[-1]["workflow_run_id"], events[-1]["task_id"]
    token = events[-2]["data"]["form_token"]
    stop = await client.post(
        f"/v1/workflows/tasks/{task_id}/stop", json={"user": "hi-5"}, headers=auth(key)
    )
    assert stop.status_code == 200 and stop.json() == {"result": "success"}
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert (detail["status"], detail["error"]) == ("stopped", "Stopped by user.")
    shown = await client.get(f"/v1/form/human_input/{token}", headers=auth(key))
    assert shown.status_code == 412 and shown.json()["code"] == "human_input_form_expired"


async def test_advanced_chat_pauses_and_finishes_its_message(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_app())
    body = {"inputs": {}, "query": "ship it?", "user": "hi-6", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    names = [e["event"] for e in events]
    assert names[-2:] == ["human_input_required", "workflow_paused"], names
    assert "message_end" not in names
    answer = "".join(e["answer"] for e in events if e["event"] == "message")
    assert answer == "Asked. "
    required = events[-2]
    assert required["data"]["form_content"] == "Q: ship it?"
    assert required["conversation_id"] and required["message_id"]
    run_id = required["workflow_run_id"]
    token = required["data"]["form_token"]
    submit = {"inputs": {"note": "yes"}, "action": "approve", "user": "hi-6"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    await _until_finished(client, key, run_id)
    for _ in range(100):
        messages = await client.get(
            "/v1/messages",
            params={"conversation_id": required["conversation_id"], "user": "hi-6"},
            headers=auth(key),
        )
        [message] = messages.json()["data"]
        if message["answer"] == "Asked. Note: yes":
            break
        await asyncio.sleep(0.05)
    assert message["answer"] == "Asked. Note: yes"


async def test_a_paused_chatflow_is_stopped_by_its_owner_only(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_app())
    body = {"inputs": {}, "query": "ship it?", "user": "hi-owner", "response_mode": "blocking"}
    paused = (await client.post("/v1/chat-messages", json=body, headers=auth(key))).json()
    task_id, run_id = paused["task_id"], paused["data"]["workflow_run_id"]
    token = paused["data"]["reasons"][0]["form_token"]
    stop_url = f"/v1/chat-messages/{task_id}/stop"
    other = await client.post(stop_url, json={"user": "someone-else"}, headers=auth(key))
    assert other.status_code == 200 and other.json() == {"result": "success"}
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert detail["status"] == "paused"  # not theirs to stop
    owner = await client.post(stop_url, json={"user": "hi-owner"}, headers=auth(key))
    assert owner.status_code == 200 and owner.json() == {"result": "success"}
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert detail["status"] == "stopped"
    shown = await client.get(f"/v1/form/human_input/{token}", headers=auth(key))
    assert shown.status_code == 412 and shown.json()["code"] == "human_input_form_expired"


def two_forms_app() -> str:
    """Two human-input nodes one after the other: the run pauses twice."""
    second = {**_form(), "id": "again", "title": "Again", "form_content": "Again"}
    nodes = [START, _form(), second, _end("yes", ["again", "note"])]
    edges = [("start", "review"), ("review", "again", "approve"), ("again", "yes", "approve")]
    return graph_dsl("workflow", nodes, edges)


async def _paused_again(client: httpx.AsyncClient, key: str, run_id: str) -> dict[str, Any]:
    for _ in range(200):
        detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
        if detail["status"] != "running":
            return dict(detail)
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not settle")


async def test_a_run_pauses_twice_then_finishes(client: httpx.AsyncClient) -> None:
    _, key = await make_app(two_forms_app())
    events = await _run(client, key, "hi-7")
    run_id, token = events[-1]["workflow_run_id"], events[-2]["data"]["form_token"]
    submit = {"inputs": {"note": "first"}, "action": "approve", "user": "hi-7"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    detail = await _paused_again(client, key, run_id)
    assert detail["status"] == "paused", detail
    waiting = await _events(client, key, run_id, "hi-7")
    assert [e["event"] for e in waiting] == ["human_input_required", "workflow_paused"]
    second = waiting[0]["data"]
    assert second["node_id"] == "again" and second["form_token"] != token
    submit = {"inputs": {"note": "second"}, "action": "approve", "user": "hi-7"}
    done = await client.post(
        f"/v1/form/human_input/{second['form_token']}", json=submit, headers=auth(key)
    )
    assert done.status_code == 200, done.text
    finished = await _until_finished(client, key, run_id)
    assert finished["status"] == "succeeded", finished
    assert finished["outputs"] == {"result": "second"}


async def test_a_run_that_cannot_resume_fails_instead_of_running_forever(
    client: httpx.AsyncClient,
) -> None:
    _, key = await make_app(workflow_app())
    events = await _run(client, key, "hi-8")
    run_id, token = events[-1]["workflow_run_id"], events[-2]["data"]["form_token"]
    async with session_scope() as session:  # a snapshot this Kiln cannot read
        await session.exec(
            update(WorkflowPause)
            .where(col(WorkflowPause.workflow_run_id) == run_id)
            .values(state={"version": 0})
        )
    submit = {"inputs": {"note": "x"}, "action": "approve", "user": "hi-8"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text  # the answer is taken; the run could not go on
    finished = await _until_finished(client, key, run_id)
    assert finished["status"] == "failed", finished
    assert finished["error"]


def select_app() -> str:
    choice = {
        "type": "select",
        "output_variable_name": "choice",
        "option_source": {"type": "constant", "value": ["red", "blue"]},
    }
    form = {**_form(), "inputs": [choice], "form_content": "Pick"}
    nodes = [START, form, _end("yes", ["review", "choice"])]
    return graph_dsl("workflow", nodes, [("start", "review"), ("review", "yes", "approve")])


async def test_a_select_input_takes_only_its_options(client: httpx.AsyncClient) -> None:
    """Dify's validate_human_input_submission: a select's value is a string among its
    constant options."""
    _, key = await make_app(select_app())
    events = await _run(client, key, "hi-9")
    run_id, token = events[-1]["workflow_run_id"], events[-2]["data"]["form_token"]
    url = f"/v1/form/human_input/{token}"
    for value, message in (
        ("green", "Invalid value for select input 'choice': green"),
        (1, "Invalid value for select input 'choice': expected string"),
    ):
        submit = {"inputs": {"choice": value}, "action": "approve", "user": "hi-9"}
        bad = await client.post(url, json=submit, headers=auth(key))
        assert bad.status_code == 400, bad.text
        assert bad.json()["code"] == "invalid_form_data"
        assert bad.json()["message"] == message
    submit = {"inputs": {"choice": "blue"}, "action": "approve", "user": "hi-9"}
    done = await client.post(url, json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    finished = await _until_finished(client, key, run_id)
    assert finished["outputs"] == {"result": "blue"}


async def test_a_resumption_that_fails_to_start_leaves_no_follower_waiting(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _SERVER_APPS[-1].state.runtime
    _, key = await make_app(workflow_app())
    events = await _run(client, key, "hi-10")
    run_id, token = events[-1]["workflow_run_id"], events[-2]["data"]["form_token"]

    async def unreachable(task_id: str, owner: str) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(runtime.registry, "register", unreachable)
    submit = {"inputs": {"note": "x"}, "action": "approve", "user": "hi-10"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    monkeypatch.undo()
    followed = await asyncio.wait_for(_events(client, key, run_id, "hi-10"), 10)
    assert followed[-1]["event"] == "workflow_finished"
    assert followed[-1]["data"]["status"] == "failed"


async def test_a_resumed_run_shows_its_files_by_fresh_signed_urls(
    client: httpx.AsyncClient,
) -> None:
    """Signed URLs expire (KILN_FILES_ACCESS_TIMEOUT): those made before a pause of hours
    would be dead when the resumed run shows them, so a resumed run signs them anew."""
    from tests.support.files import PDF, upload

    start = file_start("local_file")
    form = {**_form(), "inputs": [], "form_content": "Read it"}
    nodes = [start, form, _end("yes", ["start", "doc"])]
    _, key = await make_app(
        graph_dsl("workflow", nodes, [("start", "review"), ("review", "yes", "approve")])
    )
    uploaded = await upload(client, key, PDF, "report.pdf", "application/pdf", user="hi-11")
    doc = {"type": "document", "transfer_method": "local_file"}
    body = {
        "inputs": {"doc": {**doc, "upload_file_id": uploaded.json()["id"]}},
        "user": "hi-11",
        "response_mode": "streaming",
    }
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        _, events = await read_stream(resp)
    run_id, token = events[-1]["workflow_run_id"], events[-2]["data"]["form_token"]
    await asyncio.sleep(1.1)
    resumed_at = int(time.time())
    submit = {"inputs": {}, "action": "approve", "user": "hi-11"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    finished = await _until_finished(client, key, run_id)
    url = finished["outputs"]["result"]["url"]
    signed_at = int(parse_qs(urlsplit(url).query)["timestamp"][0])
    assert signed_at >= resumed_at, url


class _NoLiveWorker:
    async def live_workers(self, worker_ids: set[str]) -> set[str]:
        return set()


async def test_a_chatflow_whose_resuming_replica_dies_is_closed_by_the_reapers(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replica that claimed the run dies before it ends: the run and its message read
    running (and save as they stream) until the reapers close both."""
    from app.services.generation.reaper import reap_orphans
    from app.services.workflows import resume
    from app.services.workflows.reaper import reap_orphan_runs

    _, key = await make_app(chat_app())
    body = {"inputs": {}, "query": "ship it?", "user": "hi-12", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        _, events = await read_stream(resp)
    required = events[-2]
    run_id, message_id = required["workflow_run_id"], required["message_id"]

    async def dies(runtime: object, task: object) -> None:  # the process went away
        return None

    monkeypatch.setattr(resume, "run_graph_task", dies)
    submit = {"inputs": {"note": "yes"}, "action": "approve", "user": "hi-12"}
    token = required["data"]["form_token"]
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    async with session_scope() as session:
        message = await session.get(Message, message_id)
        assert message is not None and message.is_running, "a resumed message runs again"
    await reap_orphans(_NoLiveWorker())  # type: ignore[arg-type]
    await reap_orphan_runs(_NoLiveWorker())  # type: ignore[arg-type]
    async with session_scope() as session:
        message = await session.get(Message, message_id)
        assert message is not None and message.status == "error" and not message.is_running
        assert message.answer.strip() == "Asked."  # what its client saw
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert detail["status"] == "failed"


async def test_a_run_stopped_as_its_form_is_submitted_stays_stopped(
    client: httpx.AsyncClient,
) -> None:
    """A stop marks the run stopped, then closes its forms: a submission in between must
    not bring the run back."""
    _, key = await make_app(workflow_app())
    events = await _run(client, key, "hi-13")
    run_id, token = events[-1]["workflow_run_id"], events[-2]["data"]["form_token"]
    async with session_scope() as session:  # the stop's first step
        await session.exec(
            update(WorkflowRun).where(col(WorkflowRun.id) == run_id).values(status="stopped")
        )
    submit = {"inputs": {"note": "x"}, "action": "approve", "user": "hi-13"}
    done = await client.post(f"/v1/form/human_input/{token}", json=submit, headers=auth(key))
    assert done.status_code == 200, done.text
    await asyncio.sleep(0.3)
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert detail["status"] == "stopped", detail


async def test_a_replica_shutting_down_leaves_a_submitted_run_to_others(
    client: httpx.AsyncClient,
) -> None:
    """A draining replica would stop (or cancel) a run it resumed: it leaves the answered
    run paused, and upkeep (another replica's, or this one's once it runs again) resumes
    it. The shared server must not drain (its scheduler would end), so the draining
    replica is the server's runtime seen through a view that reads as draining."""
    from app.models import HumanInputForm
    from app.services.workflows.expiry import expire_due_forms
    from app.services.workflows.resume import resume_run

    runtime = _SERVER_APPS[-1].state.runtime

    class Draining:
        draining = True

        def __getattr__(self, name: str) -> Any:
            return getattr(runtime, name)

    _, key = await make_app(workflow_app())
    events = await _run(client, key, "hi-14")
    run_id = events[-1]["workflow_run_id"]
    async with session_scope() as session:  # the submission, as the form endpoint writes it
        await session.exec(
            update(HumanInputForm)
            .where(col(HumanInputForm.workflow_run_id) == run_id)
            .values(
                status="submitted", selected_action_id="approve", submitted_data={"note": "later"}
            )
        )
    assert await resume_run(Draining(), run_id) is False  # type: ignore[arg-type]
    detail = (await client.get(f"/v1/workflows/run/{run_id}", headers=auth(key))).json()
    assert detail["status"] == "paused", detail
    await expire_due_forms(runtime)
    finished = await _until_finished(client, key, run_id)
    assert (finished["status"], finished["outputs"]) == ("succeeded", {"result": "later"})


async def test_a_blocking_chatflow_answers_dify_paused_body(client: httpx.AsyncClient) -> None:
    """Dify's paused chat body: `event: workflow_paused` (clients tell it from a finished
    message by it), the run id at the top, the message so far also under `data`."""
    _, key = await make_app(chat_app())
    body = {"inputs": {}, "query": "ship it?", "user": "hi-15", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    paused = resp.json()
    assert paused["event"] == "workflow_paused"
    assert paused["answer"] == "Asked. " and paused["mode"] == "advanced-chat"
    run_id = paused["workflow_run_id"]
    data = paused["data"]
    assert (data["workflow_run_id"], data["status"]) == (run_id, "paused")
    for key_name in ("id", "message_id", "conversation_id", "mode", "answer", "created_at"):
        assert data[key_name] == paused[key_name], key_name
    assert data["paused_nodes"] == ["review"]
    assert data["reasons"][0]["form_token"]
    assert {"elapsed_time", "total_tokens", "total_steps"} <= set(data)
