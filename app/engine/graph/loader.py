"""Read `workflow.graph` from a DSL into a Workflow; problems are collected, not raised,
so an import can list all of them (graph/problems.py)."""

from collections.abc import Mapping
from typing import Any

from app.engine.graph.model import SOURCE, EdgeSpec, Graph, NodeSpec, Workflow

TRIGGER_TYPES = ("trigger-webhook", "trigger-schedule", "trigger-plugin")
ROOT_TYPES = ("start", *TRIGGER_TYPES, "datasource")
CONTAINER_TYPES = ("iteration", "loop")
NOTE_TYPE = "custom-note"


class GraphError(ValueError):
    """The graph cannot be built at all (no nodes, no root)."""


def _parent_of(node: Mapping[str, Any], data: Mapping[str, Any]) -> str | None:
    parent = node.get("parentId")
    if not parent and data.get("isInIteration"):
        parent = data.get("iteration_id")
    if not parent and data.get("isInLoop"):
        parent = data.get("loop_id")
    return str(parent) if parent else None


def read_nodes(graph: Mapping[str, Any]) -> dict[str, NodeSpec]:
    nodes: dict[str, NodeSpec] = {}
    for raw in graph.get("nodes") or []:
        if not isinstance(raw, Mapping) or raw.get("type") == NOTE_TYPE:
            continue
        data = raw.get("data")
        if not isinstance(data, Mapping) or not data.get("type"):
            continue
        node_id = str(raw.get("id") or "")
        if not node_id:
            continue
        nodes[node_id] = NodeSpec(
            id=node_id,
            type=str(data["type"]),
            title=str(data.get("title") or data["type"]),
            data=dict(data),
            parent_id=_parent_of(raw, data),
        )
    return nodes


def read_edges(graph: Mapping[str, Any], nodes: Mapping[str, NodeSpec]) -> list[EdgeSpec]:
    """Edges between known nodes (an edge to a missing node is a problem, not an edge)."""
    edges: list[EdgeSpec] = []
    for raw in graph.get("edges") or []:
        if not isinstance(raw, Mapping):
            continue
        source, target = str(raw.get("source") or ""), str(raw.get("target") or "")
        if source not in nodes or target not in nodes:
            continue
        handle = str(raw.get("sourceHandle") or SOURCE)
        edge_id = str(raw.get("id") or f"{source}-{handle}-{target}")
        edges.append(EdgeSpec(edge_id, source, target, handle))
    return edges


def _top_root(nodes: Mapping[str, NodeSpec], edges: list[EdgeSpec]) -> str:
    targets = {edge.target for edge in edges}
    tops = [n for n in nodes.values() if n.parent_id is None and n.id not in targets]
    for node in tops:
        if node.type == "start":
            return node.id
    for node in tops:
        if node.type in ROOT_TYPES:
            return node.id
    raise GraphError("The workflow has no start node.")


def top_roots(top: Graph) -> list[str]:
    """The top level's entry points (Dify's ROOT nodes with no incoming edge): a run starts
    at one of them and skips the others with everything only they lead to."""
    return [
        spec.id
        for spec in top.nodes.values()  # in the DSL's order
        if spec.id in top.members and spec.type in ROOT_TYPES and not top.incoming[spec.id]
    ]


def container_root(container: NodeSpec, nodes: Mapping[str, NodeSpec]) -> str | None:
    """The first node of a container's inside: its `start_node_id` (an iteration-start or
    loop-start node; 0.1.0 exports name the first real child, flagged `isIterationStart`)."""
    start = container.data.get("start_node_id")
    if start and str(start) in nodes:
        return str(start)
    for node in nodes.values():
        if node.parent_id == container.id and node.data.get("isIterationStart"):
            return node.id
    for node in nodes.values():
        if node.parent_id == container.id and node.type in ("iteration-start", "loop-start"):
            return node.id
    return None


def load_workflow(graph: Mapping[str, Any]) -> Workflow:
    nodes = read_nodes(graph)
    if not nodes:
        raise GraphError("The workflow graph has no nodes.")
    edges = read_edges(graph, nodes)
    top_members = frozenset(n.id for n in nodes.values() if n.parent_id is None)
    top_edges = [e for e in edges if e.source in top_members and e.target in top_members]
    top = Graph(_top_root(nodes, edges), nodes, top_members, top_edges)
    containers: dict[str, Graph] = {}
    for node in nodes.values():
        if node.type not in CONTAINER_TYPES:
            continue
        members = frozenset(n.id for n in nodes.values() if n.parent_id == node.id)
        root = container_root(node, nodes)
        if root is None or root not in members:
            continue  # reported by problems.py
        inner = [e for e in edges if e.source in members and e.target in members]
        containers[node.id] = Graph(root, nodes, members, inner)
    return Workflow(top, containers, nodes)
