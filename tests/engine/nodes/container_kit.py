"""Tiny workflow graphs for the container tests, run in-process by the real engine, and
test-only node types (registered by monkeypatching the registry) to put inside them."""

import asyncio
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from app.core.app_mode import AppMode
from app.engine.events import Event, MessageStreamContext
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult, Usage
from app.engine.nodes.registry import NODE_TYPES
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import (
    CompiledWorkflow,
    WorkflowOutcome,
    compile_workflow,
    run_workflow,
)
from app.engine.workflow.env import WorkflowRun
from app.engine.workflow.events import NodeExecution, WorkflowStream
from tests.engine.fakes import FakeGateway

# -- graph building ----------------------------------------------------------------------


def node(node_id: str, node_type: str, parent: str | None = None, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": node_id, "data": {"type": node_type, "title": node_id, **data}}
    if parent is not None:
        raw["parentId"] = parent
    return raw


def edge(source: str, target: str, handle: str = "source") -> dict[str, Any]:
    return {"id": f"{source}-{handle}-{target}", "source": source, "target": target,
            "sourceHandle": handle}  # fmt: skip


def chain(*ids: str) -> list[dict[str, Any]]:
    return [edge(a, b) for a, b in zip(ids, ids[1:], strict=False)]


def iteration(
    node_id: str, items: list[str], output: list[str], parent: str | None = None, **data: Any
) -> list[dict[str, Any]]:
    """An iteration node and its iteration-start child (`<id>start`)."""
    return [
        node(
            node_id,
            "iteration",
            parent,
            iterator_selector=items,
            output_selector=output,
            start_node_id=f"{node_id}start",
            **data,
        ),
        node(f"{node_id}start", "iteration-start", node_id),
    ]


def loop(
    node_id: str,
    count: int,
    variables: list[dict[str, Any]],
    parent: str | None = None,
    **data: Any,
) -> list[dict[str, Any]]:
    """A loop node and its loop-start child (`<id>start`)."""
    return [
        node(
            node_id,
            "loop",
            parent,
            loop_count=count,
            loop_variables=variables,
            start_node_id=f"{node_id}start",
            **{"break_conditions": [], "logical_operator": "and", **data},
        ),
        node(f"{node_id}start", "loop-start", node_id),
    ]


def constant(label: str, var_type: str, value: Any) -> dict[str, Any]:
    return {"label": label, "var_type": var_type, "value_type": "constant", "value": value}


def condition(selector: list[str], operator: str, value: Any) -> dict[str, Any]:
    return {"variable_selector": selector, "comparison_operator": operator, "value": value}


def end(*outputs: tuple[str, list[str]]) -> dict[str, Any]:
    return node(
        "end", "end", outputs=[{"variable": name, "value_selector": sel} for name, sel in outputs]
    )


# -- running -----------------------------------------------------------------------------


@dataclass
class Ran:
    outcome: WorkflowOutcome
    events: list[Event]
    executions: list[NodeExecution]
    pool: VariablePool
    elapsed: float

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]

    def of(self, event: str, node_id: str | None = None) -> list[dict[str, Any]]:
        return [
            e["data"]
            for e in self.events
            if e["event"] == event and (node_id is None or e["data"].get("node_id") == node_id)
        ]

    def runs(self, node_id: str) -> list[NodeExecution]:
        return [x for x in self.executions if x.spec.id == node_id]

    def trace(self) -> list[tuple[str, str]]:
        """(event, node id) in order, container events included, text events left out."""
        return [
            (e["event"], e["data"]["node_id"])
            for e in self.events
            if isinstance(e.get("data"), dict) and "node_id" in e["data"]
        ]


async def run_graph(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    inputs: dict[str, Any] | None = None,
    *,
    chat: bool = False,
    run: RunContext | None = None,
    seconds: float = 60,
    query: str = "",
    compiled: CompiledWorkflow | None = None,
) -> Ran:
    if compiled is None:
        compiled = compile_workflow({"graph": {"nodes": nodes, "edges": edges}})
    mode = AppMode.ADVANCED_CHAT if chat else AppMode.WORKFLOW
    workflow = WorkflowRun(mode, "app", "wf", "run", "task", inputs=dict(inputs or {}))
    system: dict[str, Any] = {"query": query} if chat else {}
    pool = VariablePool(system)
    events: list[Event] = []
    executions: list[NodeExecution] = []
    if run is None:
        run = RunContext.lasting(FakeGateway(), events.append, asyncio.Event(), seconds)
    else:
        run.emit = events.append
    stream = WorkflowStream(
        "task", "run", MessageStreamContext("task", "msg", "conv", 1) if chat else None
    )
    started = time.perf_counter()
    outcome = await run_workflow(compiled, workflow, pool, run, stream, seconds, executions.append)
    return Ran(outcome, events, executions, pool, time.perf_counter() - started)


# -- test-only node types ----------------------------------------------------------------


class Probe:
    """Counts how many `work` nodes run at once (parallel rounds)."""

    running = 0
    most = 0
    started: ClassVar[list[Any]] = []

    @classmethod
    def reset(cls) -> None:
        cls.running = cls.most = 0
        cls.started = []


class WorkNode(Node):
    """`work`: reads `source` (a selector), optionally sleeps (`sleep` seconds, or the value
    times `sleep_per_unit`), fails when the value equals `fail_on`, and outputs
    `value` = the value times `times` (default 2). `tokens` reports usage."""

    node_type = "work"

    async def run(self, ctx: NodeContext) -> NodeResult:
        value = ctx.pool.get(self.data["source"])
        Probe.started.append(value)
        Probe.running += 1
        Probe.most = max(Probe.most, Probe.running)
        try:
            delay = float(self.data.get("sleep", 0)) + float(self.data.get("sleep_per_unit", 0)) * (
                value if isinstance(value, int | float) else 0
            )
            if delay:
                await asyncio.sleep(delay)
        finally:
            Probe.running -= 1
        if "fail_on" in self.data and value == self.data["fail_on"]:
            raise NodeError(f"cannot work on {value}", "WorkError")
        times = self.data.get("times", 2)
        result = value * times if isinstance(value, int | float) else value
        tokens = int(self.data.get("tokens", 0))
        usage = Usage(prompt_tokens=tokens, total_price="0.5") if tokens else None
        return NodeResult(outputs={"value": result}, inputs={"source": value}, usage=usage)


class PickNode(Node):
    """`pick`: outputs `{value: [...]}` built from `parts` (selectors), or nothing at all
    when `skip_when` equals the first part's value."""

    node_type = "pick"

    async def run(self, ctx: NodeContext) -> NodeResult:
        values = [ctx.pool.get(selector) for selector in self.data.get("parts", [])]
        if "skip_when" in self.data and values and values[0] == self.data["skip_when"]:
            return NodeResult()
        if self.data.get("single"):
            return NodeResult(outputs={"value": values[0] if values else None})
        return NodeResult(outputs={"value": values})


class TextNode(Node):
    """`text`: streams `text` (a constant) word by word, as an LLM would."""

    node_type = "text"
    streams_text = True

    async def run(self, ctx: NodeContext) -> NodeResult:
        text = str(self.data.get("text", ""))
        for word in text.split(" "):
            ctx.stream(word + " ")
            await asyncio.sleep(0)
        return NodeResult(outputs={"text": text})


class BumpNode(Node):
    """`bump`: adds `by` (default 1) to the number at `target`, in place in the pool, as an
    assigner does to a loop variable; `append` adds a value to the list at `target`."""

    node_type = "bump"

    async def run(self, ctx: NodeContext) -> NodeResult:
        target = self.data["target"]
        current = ctx.pool.get(target)
        if "append" in self.data:
            current.append(ctx.pool.get(self.data["append"]))  # in place, on purpose
        else:
            ctx.pool.add(target[0], target[1], current + self.data.get("by", 1))
        return NodeResult()


class GateNode(Node):
    """`gate`: a branch node taking `true` when the number at `source` is at least `at`."""

    node_type = "gate"
    is_branch = True

    async def run(self, ctx: NodeContext) -> NodeResult:
        value = ctx.pool.get(self.data["source"])
        at = ctx.pool.get(self.data["at"]) if isinstance(self.data["at"], list) else self.data["at"]
        return NodeResult(handle="true" if value >= at else "false")


@pytest.fixture
def container_test_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    Probe.reset()
    for cls in (WorkNode, PickNode, TextNode, BumpNode, GateNode):
        monkeypatch.setitem(NODE_TYPES, cls.node_type, cls)
