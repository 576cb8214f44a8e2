"""Build a workflow version once (graph, nodes, problems) and run it.

`compile_workflow` is cached per version by the caller; `run_workflow` runs one request
on it and returns how it ended. The caller (the service that owns the run's records)
sends `workflow_started` before and `workflow_finished` after, once it stored the end."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.app_mode import AppMode
from app.engine.graph.loader import TRIGGER_TYPES, GraphError, load_workflow, top_roots
from app.engine.graph.model import Workflow
from app.engine.graph.problems import GraphProblem, blocking, find_problems
from app.engine.knowledge.sources import merge_resources
from app.engine.nodes.base import Node, Usage
from app.engine.nodes.registry import build_node, unsupported_reason
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import plain
from app.engine.workflow.env import RunScope, WorkflowRun
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.engine.workflow.level import LevelState
from app.engine.workflow.responses import ResponseCoordinator
from app.engine.workflow.runner import LevelRunner
from app.engine.workflow.snapshot import SNAPSHOT_VERSION, dump_pool, dump_usage, load_usage
from app.engine.workflow.state import RunState, RunTotals

RESPONSE_TYPE = {AppMode.ADVANCED_CHAT: "answer", AppMode.WORKFLOW: "end"}


class WorkflowUnrunnable(Exception):
    """Nothing of this workflow can run; the message names the node and the reason."""


@dataclass(slots=True)
class CompiledWorkflow:
    graph: Workflow | None
    nodes: dict[str, Node]
    problems: list[GraphProblem]

    def check_runnable(self, root_id: str | None = None) -> Workflow:
        """The graph, when a run can start at `root_id` (a trigger's node) or, without one,
        at the start node as a run by API does."""
        stoppers = blocking(self.problems)
        if self.graph is None or stoppers:
            reasons = "; ".join(p.describe() for p in stoppers) or "it has no graph"
            raise WorkflowUnrunnable(f"This workflow cannot run: {reasons}.")
        self.entry(root_id)
        return self.graph

    def entry(self, root_id: str | None = None) -> str:
        """The node a run starts from. Without `root_id` that is the start node: a workflow
        whose entry points are all triggers runs only when they fire, never by API."""
        assert self.graph is not None
        top = self.graph.top
        if root_id is not None:
            if root_id not in top_roots(top):
                raise WorkflowUnrunnable(f"Node {root_id} is not an entry point of this workflow.")
            return root_id
        if top.spec(top.root_id).type in TRIGGER_TYPES:
            raise WorkflowUnrunnable(trigger_only(self.graph))
        return top.root_id


def trigger_only(graph: Workflow) -> str:
    """Why a workflow whose only entry points are triggers cannot be run by API."""
    roots = [graph.top.spec(node_id) for node_id in top_roots(graph.top)]
    named = ", ".join(f"{spec.type} node {spec.id} ({spec.title})" for spec in roots)
    if all(spec.type == "trigger-plugin" for spec in roots):
        how = (
            "its plugin triggers need Dify's plugin daemon, which Kiln does not have, so "
            "nothing can start it"
        )
    else:
        how = "it runs when its webhook is called or its schedule fires, not by API"
    return f"This workflow starts only from triggers ({named}) and has no start node: {how}."


def compile_workflow(workflow: Mapping[str, Any]) -> CompiledWorkflow:
    raw_graph = workflow.get("graph")
    graph_data: Mapping[str, Any] = raw_graph if isinstance(raw_graph, Mapping) else {}
    problems = find_problems(graph_data, unsupported_reason)
    try:
        graph = load_workflow(graph_data)
    except GraphError:
        return CompiledWorkflow(None, {}, problems)
    nodes = {node_id: build_node(spec) for node_id, spec in graph.nodes.items()}
    return CompiledWorkflow(graph, nodes, problems)


@dataclass(slots=True)
class WorkflowOutcome:
    status: str  # succeeded | failed | stopped | partial-succeeded
    outputs: dict[str, Any]
    error: str | None
    answer: str  # advanced-chat: the streamed answer text
    elapsed: float
    total_tokens: int
    total_steps: int
    exceptions: int
    usages: list[Usage] = field(default_factory=list)
    # What the LLM nodes took as context from knowledge results, merged as Dify merges
    # them for advanced-chat's `message_end`.
    retriever_resources: list[dict[str, Any]] = field(default_factory=list)
    # A paused run: what each waiting node asks, and the snapshot to resume from (JSON).
    pauses: list[dict[str, Any]] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None


async def run_workflow(
    compiled: CompiledWorkflow,
    workflow: WorkflowRun,
    pool: VariablePool,
    run: RunContext,
    stream: WorkflowStream,
    run_seconds: float,
    on_node_finished: Callable[[NodeExecution], None] | None = None,
    resume: dict[str, Any] | None = None,
) -> WorkflowOutcome:
    """`resume`: the snapshot of a paused run (its pool already restored into `pool`, the
    answers in `workflow.human_decisions`); the run goes on from where it paused."""
    graph = compiled.check_runnable(workflow.root_id)
    root = compiled.entry(workflow.root_id)
    others = tuple(node_id for node_id in top_roots(graph.top) if node_id != root)
    started = time.perf_counter()
    state = RunState(graph, compiled.nodes, run, workflow, stream, run_seconds)
    response_outputs: dict[str, Any] = {}
    # Dify merges every answer's text into the run's `answer`, in the order they finish,
    # those inside iterations and loops included; joined once, at the end.
    answers: list[str] = []
    earlier = 0.0  # seconds the run took before it paused
    if resume is not None:
        state.totals = RunTotals(**resume["totals"])
        state.usages = [load_usage(u) for u in resume["usages"]]
        response_outputs.update(resume["outputs"])
        if "answer" in response_outputs:
            answers.append(str(response_outputs.pop("answer")))
        workflow.retriever_resources[:0] = resume["retriever_resources"]
        earlier = float(resume["elapsed"])

    def finished(execution: NodeExecution) -> None:
        outputs = execution.outputs if execution.status == "succeeded" else None
        if outputs and execution.spec.type == "answer":
            answers.append(str(outputs.get("answer") or ""))
        elif outputs and execution.spec.parent_id is None and execution.spec.type == "end":
            response_outputs.update(outputs)
        if on_node_finished is not None:
            on_node_finished(execution)

    state.on_node_finished = finished

    def is_stop_point(node_id: str) -> bool:
        """What an answer waits for upstream (graphon's blocking edges): branch decisions,
        containers and earlier responses, so it streams in graph order and never on a
        branch that is then skipped."""
        node = compiled.nodes[node_id]
        return state.is_branch(node_id) or node.is_container or node.spec.type in ("answer", "end")

    coordinator = ResponseCoordinator(
        graph.top,
        RESPONSE_TYPE.get(workflow.mode, "end"),
        is_stop_point,
        [node_id for node_id, node in compiled.nodes.items() if node.streams_text],
        pool,
        lambda text, selector: run.emit(stream.text(text, selector)),
        {node_id: node.written_variables() for node_id, node in compiled.nodes.items()},
    )
    state.on_inner_answer = coordinator.passthrough
    level_state = None
    if resume is not None:
        coordinator.restore(resume["coordinator"])
        level_state = LevelState.load(resume["level"])
    top = LevelRunner(state, graph.top, pool, RunScope(), coordinator, root, others, level_state)
    outcome = await top.run()
    if answers:
        response_outputs["answer"] = "".join(answers)
    if outcome.status == "succeeded":
        coordinator.finish()
    status = outcome.status
    if status == "succeeded" and state.totals.exceptions:
        status = "partial-succeeded"
    elapsed = earlier + time.perf_counter() - started
    snapshot = None
    if outcome.status == "paused" and outcome.state is not None:
        snapshot = {
            "version": SNAPSHOT_VERSION,
            "pool": dump_pool(pool),
            "level": outcome.state.dump(),
            "coordinator": coordinator.export(),
            "totals": {
                "steps": state.totals.steps,
                "tokens": state.totals.tokens,
                "exceptions": state.totals.exceptions,
                "next_index": state.totals.next_index,
            },
            "usages": [dump_usage(u) for u in state.usages],
            "outputs": plain(response_outputs),
            "retriever_resources": workflow.retriever_resources,
            "elapsed": elapsed,
        }
    return WorkflowOutcome(
        status=status,
        outputs=response_outputs if outcome.status == "succeeded" else {},
        error=outcome.error,
        answer=coordinator.text,
        elapsed=elapsed,
        total_tokens=state.totals.tokens,
        total_steps=state.totals.steps,
        exceptions=state.totals.exceptions,
        usages=state.usages,
        retriever_resources=merge_resources(workflow.retriever_resources),
        pauses=[p.request for p in outcome.paused],
        snapshot=snapshot,
    )
