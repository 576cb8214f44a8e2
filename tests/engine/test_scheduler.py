"""The scheduler in-process, with test-only node types: fan-out and joins, skip
propagation, retries, error strategies, limits, stop, secrets, answer streaming order."""

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from app.core.app_mode import AppMode
from app.engine.events import Event, MessageStreamContext
from app.engine.graph.model import NodeSpec
from app.engine.nodes import registry
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import WorkflowOutcome, compile_workflow, run_workflow
from app.engine.workflow.env import WorkflowLimits, WorkflowRun
from app.engine.workflow.events import WorkflowStream
from tests.engine.fakes import FakeGateway

BARRIERS: dict[str, asyncio.Barrier] = {}
ATTEMPTS: dict[str, int] = {}
GATES: dict[str, asyncio.Event] = {}


class ValueNode(Node):
    """Outputs `value`; waits at a barrier or a gate first when told to."""

    node_type = "t-value"

    async def run(self, ctx: NodeContext) -> NodeResult:
        if "barrier" in self.data:
            await BARRIERS[self.data["barrier"]].wait()
        if "gate" in self.data:
            await GATES[self.data["gate"]].wait()
        value = self.data.get("value", self.id)
        return NodeResult(outputs={"value": value}, inputs={"asked": value})


class BranchNode(Node):
    node_type = "t-branch"
    is_branch = True

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs={}, handle=str(self.data["handle"]))


class FlakyNode(Node):
    """Fails its first `failures` attempts (counted across runs by node id)."""

    node_type = "t-flaky"

    async def run(self, ctx: NodeContext) -> NodeResult:
        ATTEMPTS[self.id] = ATTEMPTS.get(self.id, 0) + 1
        if ATTEMPTS[self.id] <= int(self.data.get("failures", 10**9)):
            raise NodeError(f"attempt {ATTEMPTS[self.id]} failed", "Flaky")
        return NodeResult(outputs={"value": "ok"})


class TalkNode(Node):
    """Streams its words as text chunks, each after its gate (when given) opens."""

    node_type = "t-talk"
    streams_text: ClassVar[bool] = True

    async def run(self, ctx: NodeContext) -> NodeResult:
        words = str(self.data["text"]).split(" ")
        for index, word in enumerate(words):
            if "gate" in self.data and index == 1:
                await GATES[self.data["gate"]].wait()
            ctx.stream(word if index == 0 else " " + word)
            await asyncio.sleep(0)
        return NodeResult(outputs={"text": " ".join(words)})


@pytest.fixture(autouse=True)
def test_nodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for cls in (ValueNode, BranchNode, FlakyNode, TalkNode):
        monkeypatch.setitem(registry.NODE_TYPES, cls.node_type, cls)
    BARRIERS.clear()
    ATTEMPTS.clear()
    GATES.clear()
    yield


def _graph(nodes: list[dict[str, Any]], edges: list[tuple[str, ...]]) -> dict[str, Any]:
    return {
        "graph": {
            "nodes": [{"id": n["id"], "data": {"title": n["id"], **n}} for n in nodes],
            "edges": [
                {"source": e[0], "target": e[1], "sourceHandle": e[2] if len(e) > 2 else "source"}
                for e in edges
            ],
        }
    }


START = {"id": "start", "type": "start"}


async def _run(
    workflow: dict[str, Any],
    *,
    mode: AppMode = AppMode.WORKFLOW,
    limits: WorkflowLimits | None = None,
    run: RunContext | None = None,
    secrets: tuple[str, ...] = (),
    environment: dict[str, Any] | None = None,
    events: list[Event] | None = None,
) -> tuple[WorkflowOutcome, list[Event]]:
    events = [] if events is None else events
    compiled = compile_workflow(workflow)
    chat = MessageStreamContext("t", "m", "c", 1) if mode is AppMode.ADVANCED_CHAT else None
    info = WorkflowRun(mode, "app", "wf", "run", "t", limits=limits or WorkflowLimits())
    pool = VariablePool({"query": "q"}, environment or {}, {}, secrets)
    context = run or RunContext(FakeGateway(), events.append)
    context.emit = events.append
    stream = WorkflowStream("t", "run", chat, pool.secrets)
    outcome = await run_workflow(compiled, info, pool, context, stream, 1200)
    return outcome, events


def _finished(events: list[Event]) -> dict[str, dict[str, Any]]:
    return {e["data"]["node_id"]: e["data"] for e in events if e["event"] == "node_finished"}


async def test_fan_out_branches_run_together_and_the_join_waits_for_all() -> None:
    BARRIERS["b"] = asyncio.Barrier(3)  # deadlocks unless all three run at once
    nodes = [START] + [{"id": f"b{i}", "type": "t-value", "barrier": "b"} for i in range(3)]
    nodes.append({"id": "join", "type": "t-value"})
    edges = [("start", f"b{i}") for i in range(3)] + [(f"b{i}", "join") for i in range(3)]
    outcome, events = await asyncio.wait_for(_run(_graph(nodes, edges)), 10)
    assert outcome.status == "succeeded"
    order = [(e["event"], e["data"]["node_id"]) for e in events if "node_" in e["event"]]
    assert order.count(("node_started", "join")) == 1
    join_at = order.index(("node_started", "join"))
    assert all(order.index(("node_finished", f"b{i}")) < join_at for i in range(3))
    assert outcome.total_steps == 5


async def test_a_branch_skips_the_other_side_and_the_join_runs_once() -> None:
    nodes = [
        START,
        {"id": "if", "type": "t-branch", "handle": "true"},
        {"id": "yes", "type": "t-value"},
        {"id": "no", "type": "t-value"},
        {"id": "no2", "type": "t-value"},
        {"id": "join", "type": "t-value"},
    ]
    edges = [
        ("start", "if"),
        ("if", "yes", "true"),
        ("if", "no", "false"),
        ("no", "no2"),
        ("yes", "join"),
        ("no2", "join"),
    ]
    outcome, events = await _run(_graph(nodes, edges))
    finished = _finished(events)
    assert outcome.status == "succeeded"
    assert set(finished) == {"start", "if", "yes", "join"}
    assert finished["join"]["predecessor_node_id"] == "yes"


async def test_retries_then_success_emits_node_retry() -> None:
    retry = {"retry_enabled": True, "max_retries": 3, "retry_interval": 1}
    flaky = {"id": "flaky", "type": "t-flaky", "failures": 2, "retry_config": retry}
    outcome, events = await _run(_graph([START, flaky], [("start", "flaky")]))
    retries = [e for e in events if e["event"] == "node_retry"]
    assert [e["data"]["retry_index"] for e in retries] == [1, 2]
    assert all(e["data"]["status"] == "retry" for e in retries)
    assert outcome.status == "succeeded" and _finished(events)["flaky"]["status"] == "succeeded"
    assert sum(1 for e in events if e["event"] == "node_started") == 2  # start + flaky once


async def test_default_value_strategy_is_an_exception_and_the_run_partly_succeeds() -> None:
    flaky = {
        "id": "flaky",
        "type": "t-flaky",
        "error_strategy": "default-value",
        "default_value": [{"key": "value", "type": "number", "value": "7"}],
    }
    after = {"id": "after", "type": "t-value"}
    outcome, events = await _run(
        _graph([START, flaky, after], [("start", "flaky"), ("flaky", "after")])
    )
    data = _finished(events)["flaky"]
    assert data["status"] == "exception"
    assert data["outputs"] == {
        "value": 7.0,
        "error_message": "attempt 1 failed",
        "error_type": "Flaky",
    }
    assert data["execution_metadata"]["error_strategy"] == "default-value"
    assert outcome.status == "partial-succeeded" and outcome.exceptions == 1
    assert "after" in _finished(events)


async def test_fail_branch_takes_the_fail_edge() -> None:
    nodes = [
        START,
        {"id": "flaky", "type": "t-flaky", "error_strategy": "fail-branch"},
        {"id": "ok", "type": "t-value"},
        {"id": "oops", "type": "t-value"},
    ]
    edges = [("start", "flaky"), ("flaky", "ok", "source"), ("flaky", "oops", "fail-branch")]
    outcome, events = await _run(_graph(nodes, edges))
    assert set(_finished(events)) == {"start", "flaky", "oops"}
    assert outcome.status == "partial-succeeded"


async def test_an_unhandled_failure_fails_the_run_and_stops_other_branches() -> None:
    GATES["never"] = asyncio.Event()
    nodes = [
        START,
        {"id": "flaky", "type": "t-flaky"},
        {"id": "slow", "type": "t-value", "gate": "never"},
    ]
    outcome, events = await asyncio.wait_for(
        _run(_graph(nodes, [("start", "flaky"), ("start", "slow")])), 10
    )
    assert outcome.status == "failed" and outcome.error == "attempt 1 failed"
    assert _finished(events)["flaky"]["status"] == "failed"
    assert outcome.outputs == {}


async def test_the_step_limit_fails_the_run() -> None:
    chain = [START] + [{"id": f"n{i}", "type": "t-value"} for i in range(5)]
    edges = [("start", "n0")] + [(f"n{i}", f"n{i + 1}") for i in range(4)]
    outcome, _ = await _run(_graph(chain, edges), limits=WorkflowLimits(max_steps=3))
    assert outcome.status == "failed"
    assert outcome.error == "Maximum execution steps exceeded: 4 > 3"


async def test_the_time_limit_fails_the_run() -> None:
    GATES["never"] = asyncio.Event()
    nodes = [START, {"id": "slow", "type": "t-value", "gate": "never"}]
    run = RunContext.lasting(FakeGateway(), lambda _: None, asyncio.Event(), 0.05)
    outcome, _ = await asyncio.wait_for(_run(_graph(nodes, [("start", "slow")]), run=run), 10)
    assert outcome.status == "failed" and "Maximum execution time exceeded" in str(outcome.error)


async def test_a_stop_request_stops_the_run() -> None:
    GATES["never"] = asyncio.Event()
    nodes = [START, {"id": "slow", "type": "t-value", "gate": "never"}]
    run = RunContext(FakeGateway(), lambda _: None)
    running = asyncio.create_task(_run(_graph(nodes, [("start", "slow")]), run=run))
    await asyncio.sleep(0.01)
    run.stop.set()
    outcome, _ = await asyncio.wait_for(running, 10)
    assert outcome.status == "stopped"


async def test_secret_environment_values_never_reach_events() -> None:
    end = {
        "id": "end",
        "type": "end",
        "outputs": [{"variable": "k", "value_selector": ["env", "KEY"]}],
    }
    outcome, events = await _run(
        _graph([START, end], [("start", "end")]),
        secrets=("s3cr3t-value",),
        environment={"KEY": "s3cr3t-value"},
    )
    assert outcome.status == "succeeded"
    assert all("s3cr3t-value" not in str(e) for e in events)


async def test_a_large_node_output_is_not_a_variable_size_failure() -> None:
    """Dify applies MAX_VARIABLE_SIZE to variables an assigner writes, not to node outputs
    (a long document's text must pass)."""
    big = {"id": "big", "type": "t-value", "value": "x" * 2000}
    outcome, _ = await _run(
        _graph([START, big], [("start", "big")]), limits=WorkflowLimits(max_variable_size=1000)
    )
    assert outcome.status == "succeeded"


async def test_answers_stream_in_template_order_and_relay_tokens_live() -> None:
    GATES["a"] = asyncio.Event()
    nodes = [
        START,
        {"id": "talk_a", "type": "t-talk", "text": "alpha beta", "gate": "a"},
        {"id": "talk_b", "type": "t-talk", "text": "gamma delta"},
        {"id": "ans_a", "type": "answer", "answer": "A: {{#talk_a.text#}}. "},
        {"id": "ans_b", "type": "answer", "answer": "B: {{#talk_b.text#}}."},
    ]
    edges = [("start", "talk_a"), ("start", "talk_b"), ("talk_a", "ans_a"), ("talk_b", "ans_b")]
    workflow = _graph(nodes, edges)
    events: list[Event] = []

    async def open_gate_after_first_chunk() -> None:
        while not any(e.get("answer") == "alpha" for e in events):
            await asyncio.sleep(0.001)
        GATES["a"].set()

    opener = asyncio.create_task(open_gate_after_first_chunk())
    outcome, events = await asyncio.wait_for(
        _run(workflow, mode=AppMode.ADVANCED_CHAT, events=events), 10
    )
    await opener
    text = [e["answer"] for e in events if e["event"] == "message"]
    assert "".join(text) == "A: alpha beta. B: gamma delta."
    assert outcome.answer == "A: alpha beta. B: gamma delta."
    first_chunk = next(i for i, e in enumerate(events) if e.get("answer") == "alpha")
    talk_a_done = next(
        i
        for i, e in enumerate(events)
        if e["event"] == "node_finished" and e["data"]["node_id"] == "talk_a"
    )
    assert first_chunk < talk_a_done  # relayed while the node was still talking
    selectors = {tuple(e["from_variable_selector"]) for e in events if e["event"] == "message"}
    assert ("talk_a", "text") in selectors and ("ans_a", "answer") in selectors


async def test_unknown_node_types_fail_when_reached_and_blocking_problems_refuse() -> None:
    nodes = [START, {"id": "rag", "type": "knowledge-index"}]
    outcome, _ = await _run(_graph(nodes, [("start", "rag")]))
    assert outcome.status == "failed"
    assert "RAG pipeline nodes are not supported by Kiln" in str(outcome.error)
    cyclic = _graph(
        [START, {"id": "a", "type": "t-value"}, {"id": "b", "type": "t-value"}],
        [("start", "a"), ("a", "b"), ("b", "a")],
    )
    compiled = compile_workflow(cyclic)
    assert any(p.blocking and "cycle" in p.reason for p in compiled.problems)


def test_node_spec_parent_from_data() -> None:
    spec = NodeSpec("x", "t-value", "X", {"isInIteration": True, "iteration_id": "it"}, "it")
    assert spec.parent_id == "it"
