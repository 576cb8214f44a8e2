"""Entry points (Dify's root selection): a run starts at the start node (a run by API) or
at the trigger that fired; every other entry point is skipped with what only it leads to,
so a join shared with the active branch does not wait for it. A workflow whose entry
points are all triggers cannot be run by API, and says so."""

import asyncio
from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.events import Event
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import (
    WorkflowOutcome,
    WorkflowUnrunnable,
    compile_workflow,
    run_workflow,
)
from app.engine.workflow.env import WorkflowRun
from app.engine.workflow.events import WorkflowStream
from tests.engine.fakes import FakeGateway
from tests.engine.nodes.support import graph

START = ("start", {"type": "start", "title": "Start", "variables": []})
HOOK = ("hook", {"type": "trigger-webhook", "title": "Hook", "method": "post"})
TICK = ("tick", {"type": "trigger-schedule", "title": "Tick", "mode": "cron"})


def _template(node_id: str, text: str) -> tuple[str, dict[str, Any]]:
    return node_id, {"type": "template-transform", "title": node_id, "template": text}


def _end(*pairs: tuple[str, list[str]]) -> tuple[str, dict[str, Any]]:
    outputs = [{"variable": name, "value_selector": selector} for name, selector in pairs]
    return "end", {"type": "end", "title": "End", "outputs": outputs}


# start → a ─┐
# hook  → b ─┼→ join → end
# tick  → c ─┘
MIXED = graph(
    [
        START,
        HOOK,
        TICK,
        (
            "a",
            {"type": "variable-aggregator", "title": "a", "variables": [["start", "sys.user_id"]]},
        ),
        ("b", {"type": "variable-aggregator", "title": "b", "variables": [["hook", "name"]]}),
        (
            "c",
            {"type": "variable-aggregator", "title": "c", "variables": [["tick", "current_time"]]},
        ),
        (
            "join",
            {
                "type": "variable-aggregator",
                "title": "join",
                "variables": [["a", "output"], ["b", "output"], ["c", "output"]],
            },
        ),
        _end(("value", ["join", "output"])),
    ],
    [
        ("start", "source", "a"),
        ("hook", "source", "b"),
        ("tick", "source", "c"),
        ("a", "source", "join"),
        ("b", "source", "join"),
        ("c", "source", "join"),
        ("join", "source", "end"),
    ],
)


async def _run(
    workflow: dict[str, Any], root_id: str | None, inputs: dict[str, Any]
) -> tuple[WorkflowOutcome, list[Event]]:
    events: list[Event] = []
    info = WorkflowRun(AppMode.WORKFLOW, "app", "wf", "run", "task", inputs=inputs, root_id=root_id)
    pool = VariablePool({"user_id": "DEFAULT-USER", "files": []})
    outcome = await asyncio.wait_for(
        run_workflow(
            compile_workflow(workflow),
            info,
            pool,
            RunContext(FakeGateway(), events.append),
            WorkflowStream("task", "run", None),
            60,
        ),
        10,
    )
    return outcome, events


def _ran(events: list[Event]) -> list[str]:
    return [e["data"]["node_id"] for e in events if e["event"] == "node_finished"]


async def test_a_run_by_api_starts_at_start_and_skips_the_triggers() -> None:
    outcome, events = await _run(MIXED, None, {})
    assert outcome.status == "succeeded", outcome.error
    assert _ran(events) == ["start", "a", "join", "end"]
    assert outcome.outputs == {"value": "DEFAULT-USER"}


async def test_a_webhook_run_starts_at_its_node_and_skips_the_others() -> None:
    call = {"body": {"name": "Ada"}, "headers": {}, "query_params": {}, "files": {}}
    outcome, events = await _run(MIXED, "hook", {"webhook_data": call})
    assert outcome.status == "succeeded", outcome.error
    assert _ran(events) == ["hook", "b", "join", "end"]
    assert outcome.outputs == {"value": None}  # `name` is not a configured body field


async def test_a_schedule_run_starts_at_its_node() -> None:
    outcome, events = await _run(MIXED, "tick", {"current_time": "2026-01-01T00:00:00+00:00"})
    assert outcome.status == "succeeded", outcome.error
    assert _ran(events) == ["tick", "c", "join", "end"]
    assert outcome.outputs == {"value": "2026-01-01T00:00:00+00:00"}


async def test_only_an_entry_point_can_be_a_root() -> None:
    with pytest.raises(WorkflowUnrunnable, match="Node a is not an entry point"):
        await _run(MIXED, "a", {})


async def test_a_trigger_only_workflow_cannot_run_by_api() -> None:
    only = graph(
        [HOOK, TICK, _template("t", "x"), _end(("value", ["t", "output"]))],
        [("hook", "source", "t"), ("tick", "source", "t"), ("t", "source", "end")],
    )
    compiled = compile_workflow(only)
    with pytest.raises(WorkflowUnrunnable) as caught:
        compiled.check_runnable()
    message = str(caught.value)
    assert message.startswith("This workflow starts only from triggers (")
    assert "trigger-webhook node hook (Hook)" in message
    assert "trigger-schedule node tick (Tick)" in message
    assert "not by API" in message
    assert compiled.check_runnable("hook") is compiled.graph


def test_a_plugin_only_workflow_names_the_plugin_daemon() -> None:
    plugin = ("p", {"type": "trigger-plugin", "title": "On issue", "plugin_id": "gh/github"})
    compiled = compile_workflow(graph([plugin, _end()], [("p", "source", "end")]))
    [problem] = [p for p in compiled.problems if p.node_id == "p"]
    assert not problem.blocking and "plugin daemon" in problem.reason
    with pytest.raises(WorkflowUnrunnable, match="Dify's plugin daemon"):
        compiled.check_runnable()
