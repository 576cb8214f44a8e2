"""What every level of one run shares: the built nodes, the graph, the run's context and
identity, its event stream and totals."""

from collections.abc import Callable
from dataclasses import dataclass, field

from app.engine.events import Event
from app.engine.graph.model import Workflow
from app.engine.nodes.base import Node, Usage
from app.engine.run_context import RunContext
from app.engine.workflow.env import WorkflowRun
from app.engine.workflow.events import NodeExecution, WorkflowStream


@dataclass(slots=True)
class RunTotals:
    """Counted over the whole run, every level included."""

    steps: int = 0
    tokens: int = 0
    exceptions: int = 0
    next_index: int = 0

    def index(self) -> int:
        self.next_index += 1
        return self.next_index


def _ignore_execution(_: NodeExecution) -> None:
    return None


def _ignore_answer(_node_id: str, _text: str) -> None:
    return None


@dataclass(slots=True)
class RunState:
    graph: Workflow
    nodes: dict[str, Node]
    run: RunContext
    workflow: WorkflowRun
    stream: WorkflowStream
    run_seconds: float  # the time limit, for the message when it is reached
    totals: RunTotals = field(default_factory=RunTotals)
    usages: list[Usage] = field(default_factory=list)
    # Told of every finished node execution (the service layer stores them).
    on_node_finished: Callable[[NodeExecution], None] = _ignore_execution
    # Told the text of an answer node inside an iteration or loop each time it succeeds
    # (no level's response order holds it: Dify forwards it as it comes).
    on_inner_answer: Callable[[str, str], None] = _ignore_answer

    def emit(self, event: Event) -> None:
        self.run.emit(event)

    def node_finished(self, execution: NodeExecution) -> None:
        self.on_node_finished(execution)

    def add_usage(self, usage: Usage) -> None:
        self.usages.append(usage)
        self.totals.tokens += usage.total_tokens

    def is_branch(self, node_id: str) -> bool:
        node = self.nodes[node_id]
        return node.is_branch or node.spec.data.get("error_strategy") == "fail-branch"
