"""The graph of one workflow version, as the engine walks it.

Nodes inside iteration and loop containers live in the same node map; each container's
children and the edges between them form its own subgraph, rooted at its start node."""

from dataclasses import dataclass, field
from typing import Any

SOURCE = "source"


@dataclass(frozen=True, slots=True)
class NodeSpec:
    id: str
    type: str  # `data.type`: start, llm, answer, …
    title: str
    data: dict[str, Any]
    parent_id: str | None = None  # the iteration or loop container holding it


@dataclass(frozen=True, slots=True)
class EdgeSpec:
    id: str
    source: str
    target: str
    handle: str = SOURCE  # the branch a source node selects (`sourceHandle`)


@dataclass(slots=True)
class Graph:
    """One level of a workflow: the top level, or a container's inside."""

    root_id: str
    nodes: dict[str, NodeSpec]  # every node of the workflow, all levels
    members: frozenset[str]  # the node ids of this level
    edges: list[EdgeSpec]
    outgoing: dict[str, list[EdgeSpec]] = field(default_factory=dict)
    incoming: dict[str, list[EdgeSpec]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.outgoing = {node_id: [] for node_id in self.members}
        self.incoming = {node_id: [] for node_id in self.members}
        for edge in self.edges:
            self.outgoing[edge.source].append(edge)
            self.incoming[edge.target].append(edge)

    def spec(self, node_id: str) -> NodeSpec:
        return self.nodes[node_id]


@dataclass(slots=True)
class Workflow:
    """Every level of one workflow graph, and the nodes that cannot run (see problems)."""

    top: Graph
    containers: dict[str, Graph]  # container id → its subgraph
    nodes: dict[str, NodeSpec]

    def level_of(self, node_id: str) -> Graph:
        parent = self.nodes[node_id].parent_id
        return self.top if parent is None else self.containers[parent]

    def inside(self, container_id: str) -> frozenset[str]:
        """Every node inside a container, nested containers' insides included."""
        found: set[str] = set()
        pending = [container_id]
        while pending:
            level = self.containers.get(pending.pop())
            if level is None:
                continue
            found |= level.members
            pending += [member for member in level.members if member in self.containers]
        return frozenset(found)
