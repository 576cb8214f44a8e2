"""What every node type is: a class built once per workflow version from its DSL data,
whose `run` reads the pool and returns a NodeResult (or raises NodeError).

A node never touches the database or HTTP directly: everything outside comes through its
NodeContext (the model gateway, the code sandbox, guarded fetches, conversation variables)."""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from app.engine.graph.model import SOURCE, NodeSpec
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.env import RunScope, WorkflowRun


class NodeConfigError(ValueError):
    """The node's DSL data cannot be run (found when the workflow is built)."""


class NodeError(Exception):
    """The node failed. `message` is the node's error as Dify shows it; outputs a failing
    node still produced (an HTTP response with a bad status) go with it."""

    def __init__(
        self,
        message: str,
        error_type: str = "NodeError",
        outputs: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Any] | None = None,
        process_data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.outputs = dict(outputs or {})
        self.inputs = dict(inputs or {})
        self.process_data = dict(process_data or {})


class NodePaused(Exception):
    """The node waits for something outside the run (a person's answer): the run pauses
    here and later resumes, re-running this node with the answer in `WorkflowRun`."""

    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__("paused")
        self.request = request  # what the service layer needs to ask (a form)


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_price: str = "0"
    currency: str = "USD"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def plus(self, other: "Usage") -> "Usage":
        """Both usages together (a container's inside, summed over its rounds)."""
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_price=str(_price(self.total_price) + _price(other.total_price)),
            currency=self.currency if _price(self.total_price) else other.currency,
        )


def _price(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return Decimal(0)


@dataclass(slots=True)
class NodeResult:
    outputs: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    process_data: dict[str, Any] = field(default_factory=dict)
    handle: str = SOURCE  # the edge handle a branch node selected
    usage: Usage | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # extra execution_metadata


SubgraphRunner = Callable[[VariablePool, RunScope], Awaitable["SubgraphOutcome"]]


@dataclass(slots=True)
class SubgraphOutcome:
    """How a container's inside ended for one round."""

    failed: bool = False
    error: str | None = None
    error_type: str | None = None
    tokens: int = 0
    steps: int = 0
    exceptions: int = 0
    stopped: bool = False  # a loop-end node was reached
    usage: Usage = field(default_factory=Usage)  # what this round's nodes reported
    interrupted: bool = False  # the run was stopped while the round ran


@dataclass(slots=True)
class NodeContext:
    spec: NodeSpec
    execution_id: str
    pool: VariablePool
    run: RunContext  # gateway, where events go, stop, deadline
    workflow: WorkflowRun  # ids, mode, limits, the services nodes reach outside through
    scope: RunScope  # iteration / loop position, when inside a container
    stream: Callable[[str], None]  # publish a chunk of this node's `text` as it is made
    run_subgraph: SubgraphRunner | None = None  # containers only
    emit: Callable[[str, dict[str, Any]], None] | None = None  # container, agent_log events

    @property
    def node_id(self) -> str:
        return self.spec.id

    @property
    def stopped(self) -> asyncio.Event:
        return self.run.stop


class Node(ABC):
    """One node of a workflow version. Subclasses set `node_type` and parse their DSL data
    in `__init__` (raising NodeConfigError); `run` may be called many times (iterations)."""

    node_type: ClassVar[str]
    # Branch nodes choose their outgoing edge by handle (if-else, question-classifier).
    is_branch: ClassVar[bool] = False
    # Nodes whose `text` output streams as it is generated (an answer can relay it).
    streams_text: ClassVar[bool] = False
    # Nodes whose inside is a subgraph of the workflow (iteration, loop).
    is_container: ClassVar[bool] = False
    # Nodes that send events of their own besides node_started/finished (agent_log).
    emits_events: ClassVar[bool] = False
    # Container start markers (iteration-start, loop-start): Dify never reports them, so
    # the scheduler passes through them without events or an execution record.
    silent: ClassVar[bool] = False

    def __init__(self, spec: NodeSpec) -> None:
        self.spec = spec
        self.data = spec.data

    @property
    def id(self) -> str:
        return self.spec.id

    def written_variables(self) -> frozenset[tuple[str, str]]:
        """`(scope, name)` variables this node writes besides its own outputs (assigners
        update conversation and loop variables): an answer that shows one waits for it."""
        return frozenset()

    @abstractmethod
    async def run(self, ctx: NodeContext) -> NodeResult: ...
