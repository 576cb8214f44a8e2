"""What in a workflow graph will not run, and why: listed by `kiln apps import` and
answered, naming the node, by a run of an app that cannot run.

Blocking problems make the whole app unrunnable (no start node, cycles, containers without
a start); other problems (a node type Kiln does not run) fail only that node when a run
reaches it, so error strategies and untaken branches behave as in Dify."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.graph.loader import (
    CONTAINER_TYPES,
    GraphError,
    container_root,
    load_workflow,
    read_edges,
    read_nodes,
)
from app.engine.graph.model import Graph, NodeSpec, Workflow


@dataclass(frozen=True, slots=True)
class GraphProblem:
    node_id: str | None
    title: str | None
    reason: str
    blocking: bool  # True: nothing of the app runs

    def describe(self) -> str:
        where = f"node {self.node_id} ({self.title})" if self.node_id else "the workflow"
        return f"{where}: {self.reason}"


def _missing_edge_ends(graph: Mapping[str, Any], nodes: Mapping[str, NodeSpec]) -> list[str]:
    missing: list[str] = []
    for raw in graph.get("edges") or []:
        if not isinstance(raw, Mapping):
            continue
        for end in ("source", "target"):
            node_id = str(raw.get(end) or "")
            if node_id not in nodes:
                missing.append(f"edge {raw.get('id') or '?'} points at missing node {node_id!r}")
    return missing


def _cycle_node(level: Graph) -> str | None:
    """A node on a cycle of this level (loops repeat only through their container)."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in level.members:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node_id, index = stack[-1]
            edges = level.outgoing[node_id]
            if index < len(edges):
                stack[-1] = (node_id, index + 1)
                target = edges[index].target
                if state.get(target) == 1:
                    return target
                if not state.get(target):
                    state[target] = 1
                    stack.append((target, 0))
            else:
                state[node_id] = 2
                stack.pop()
    return None


def find_problems(
    graph: Mapping[str, Any], supported: Callable[[NodeSpec], str | None]
) -> list[GraphProblem]:
    """`supported(spec)` returns why a node cannot run, or None when it can."""
    nodes = read_nodes(graph)
    problems = [GraphProblem(None, None, text, True) for text in _missing_edge_ends(graph, nodes)]
    try:
        workflow = load_workflow(graph)
    except GraphError as exc:
        return [*problems, GraphProblem(None, None, str(exc), True)]
    problems += _structure(workflow, nodes)
    for spec in nodes.values():
        reason = supported(spec)
        if reason is not None:
            problems.append(GraphProblem(spec.id, spec.title, reason, False))
    return problems


def _structure(workflow: Workflow, nodes: Mapping[str, NodeSpec]) -> list[GraphProblem]:
    problems: list[GraphProblem] = []
    for spec in nodes.values():
        if spec.parent_id is not None and spec.parent_id not in nodes:
            problems.append(GraphProblem(spec.id, spec.title, "its container is missing", True))
        if spec.type in CONTAINER_TYPES and spec.id not in workflow.containers:
            root = container_root(spec, nodes)
            reason = (
                f"the {spec.type} has no start node"
                if root is None
                else (f"the {spec.type}'s start node {root} is not inside it")
            )
            problems.append(GraphProblem(spec.id, spec.title, reason, True))
    for level in (workflow.top, *workflow.containers.values()):
        looped = _cycle_node(level)
        if looped is not None:
            title = nodes[looped].title
            reason = "it is on a cycle; only loop nodes may repeat"
            problems.append(GraphProblem(looped, title, reason, True))
    return problems


def blocking(problems: Iterable[GraphProblem]) -> list[GraphProblem]:
    return [p for p in problems if p.blocking]


__all__ = ["GraphProblem", "blocking", "find_problems", "read_edges"]
