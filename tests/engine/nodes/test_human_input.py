"""The human-input node in-process: a run pauses at it with Dify's form, its snapshot is
plain JSON, and a resumed run goes on from there (finished nodes are not run again) along
the chosen action's branch, the timeout's, or with the submitted values as outputs."""

import json
from typing import Any

from app.core.app_mode import AppMode
from app.engine.events import Event, MessageStreamContext
from app.engine.nodes.registry import unsupported_reason
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import WorkflowOutcome, compile_workflow, run_workflow
from app.engine.workflow.env import HumanDecision, WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.engine.workflow.snapshot import load_pool
from tests.engine.fakes import FakeGateway
from tests.engine.nodes.support import graph, run_graph, spec, workflow_run

FORM = {
    "type": "human-input",
    "title": "Review",
    "form_content": "Draft for {{#start.name#}}: {{#$output.comment#}}",
    "inputs": [
        {
            "type": "paragraph",
            "output_variable_name": "comment",
            "default": {"type": "variable", "selector": ["start", "name"], "value": ""},
        }
    ],
    "user_actions": [
        {"id": "approve", "title": "Approve", "button_style": "primary"},
        {"id": "reject", "title": "Reject"},
    ],
    "timeout": 1,
    "timeout_unit": "day",
}
START = {"type": "start", "variables": [{"variable": "name", "type": "text-input"}]}


def _end(value: list[str]) -> dict[str, Any]:
    return {"type": "end", "outputs": [{"variable": "out", "value_selector": value}]}


WORKFLOW = graph(
    [
        ("start", START),
        ("hi", FORM),
        ("yes", _end(["hi", "comment"])),
        ("no", _end(["hi", "__action_value"])),
        ("late", _end(["hi", "__action_id"])),
    ],
    [
        ("start", "source", "hi"),
        ("hi", "approve", "yes"),
        ("hi", "reject", "no"),
        ("hi", "__timeout", "late"),
    ],
)


async def _resume(
    workflow: dict[str, Any],
    snapshot: dict[str, Any],
    decision: HumanDecision,
    mode: AppMode = AppMode.WORKFLOW,
) -> tuple[WorkflowOutcome, list[Event], list[NodeExecution]]:
    stored = json.loads(json.dumps(snapshot))  # as it comes back from the database
    pool = load_pool(stored["pool"], VariablePool())
    run = workflow_run(mode, WorkflowServices())
    run.human_decisions = {"hi": decision}
    chat = (
        MessageStreamContext("task", "message", "c", 1) if mode is AppMode.ADVANCED_CHAT else None
    )
    events: list[Event] = []
    executions: list[NodeExecution] = []
    outcome = await run_workflow(
        compile_workflow(workflow),
        run,
        pool,
        RunContext(FakeGateway(), events.append),
        WorkflowStream("task", "run", chat),
        60,
        executions.append,
        resume=stored,
    )
    return outcome, events, executions


async def test_a_run_pauses_at_the_form_with_dify_s_reason() -> None:
    result = await run_graph(WORKFLOW, inputs={"name": "Ada"})
    assert result.outcome.status == "paused"
    # hi started but has not finished: its execution is stored as paused (Dify's row).
    assert result.ran() == {"start", "hi"} and result.execution("hi").status == "paused"
    assert not [
        e for e in result.events if e["event"] == "node_finished" and e["data"]["node_id"] == "hi"
    ]
    started = [e["data"]["node_id"] for e in result.events if e["event"] == "node_started"]
    assert started == ["start", "hi"]
    (request,) = result.outcome.pauses
    assert request["node_id"] == "hi" and request["node_title"] == "Review"
    assert request["form_content"] == "Draft for Ada: {{#$output.comment#}}"
    assert request["resolved_default_values"] == {"comment": "Ada"}
    assert [a["id"] for a in request["actions"]] == ["approve", "reject"]
    assert request["actions"][1]["button_style"] == "default"
    assert request["timeout_seconds"] == 86400
    assert result.outcome.snapshot is not None
    json.dumps(result.outcome.snapshot)


async def test_submitting_resumes_along_the_action_without_rerunning_nodes() -> None:
    paused = await run_graph(WORKFLOW, inputs={"name": "Ada"})
    assert paused.outcome.snapshot is not None
    decision = HumanDecision("approve", {"comment": "fine"})
    outcome, events, executions = await _resume(WORKFLOW, paused.outcome.snapshot, decision)
    assert outcome.status == "succeeded"
    assert outcome.outputs == {"out": "fine"}
    assert [e.spec.id for e in executions] == ["hi", "yes"]
    hi = executions[0]
    assert hi.handle == "approve"
    assert hi.outputs == {
        "comment": "fine",
        "__action_id": "approve",
        "__action_value": "Approve",
        "__rendered_content": "Draft for Ada: fine",
    }
    filled = next(e for e in events if e["event"] == "human_input_form_filled")
    assert filled["data"]["action_id"] == "approve"
    assert filled["data"]["action_text"] == "Approve"
    assert filled["data"]["rendered_content"] == "Draft for Ada: fine"
    assert filled["data"]["node_execution_id"] == hi.id
    assert outcome.total_steps == 4  # hi counts twice: it started before the pause too


async def test_another_action_takes_its_own_branch() -> None:
    paused = await run_graph(WORKFLOW, inputs={"name": "Ada"})
    assert paused.outcome.snapshot is not None
    outcome, _, executions = await _resume(
        WORKFLOW, paused.outcome.snapshot, HumanDecision("reject", {"comment": ""})
    )
    assert outcome.outputs == {"out": "Reject"}
    assert [e.spec.id for e in executions] == ["hi", "no"]


async def test_a_timeout_takes_the_timeout_branch() -> None:
    paused = await run_graph(WORKFLOW, inputs={"name": "Ada"})
    assert paused.outcome.snapshot is not None
    decision = HumanDecision("", {}, timed_out=True, expiration_time=123)
    outcome, events, executions = await _resume(WORKFLOW, paused.outcome.snapshot, decision)
    assert outcome.status == "succeeded"
    assert outcome.outputs == {"out": ""}
    assert executions[0].handle == "__timeout"
    timeout = next(e for e in events if e["event"] == "human_input_form_timeout")
    assert timeout["data"] == {
        "node_id": "hi",
        "node_type": "human-input",
        "node_title": "Review",
        "expiration_time": 123,
    }


CHAT = graph(
    [
        ("start", {"type": "start", "variables": []}),
        ("before", {"type": "answer", "answer": "Asking. "}),
        ("hi", {**FORM, "form_content": "Q: {{#sys.query#}}"}),
        ("after", {"type": "answer", "answer": "You said {{#hi.comment#}}."}),
    ],
    [
        ("start", "source", "before"),
        ("before", "source", "hi"),
        ("hi", "approve", "after"),
    ],
)


async def test_advanced_chat_streams_before_the_pause_and_the_rest_after() -> None:
    paused = await run_graph(CHAT, AppMode.ADVANCED_CHAT, query="hello")
    assert paused.outcome.status == "paused"
    assert "".join(text for text, _ in paused.streamed()) == "Asking. "
    assert paused.outcome.pauses[0]["form_content"] == "Q: hello"
    assert paused.outcome.snapshot is not None
    decision = HumanDecision("approve", {"comment": "yes"})
    outcome, events, _ = await _resume(
        CHAT, paused.outcome.snapshot, decision, AppMode.ADVANCED_CHAT
    )
    sent = "".join(str(e["answer"]) for e in events if e["event"] == "message")
    assert sent == "You said yes."
    assert outcome.answer == "Asking. You said yes."


async def test_a_bad_form_does_not_run() -> None:
    actions = [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]
    bad = spec("human-input", {**FORM, "user_actions": actions})
    assert "duplicated" in (unsupported_reason(bad) or "")
    assert unsupported_reason(spec("human-input", FORM)) is None
    files = spec("human-input", {**FORM, "inputs": [{"type": "file", "output_variable_name": "f"}]})
    assert "not supported" in (unsupported_reason(files) or "")
