"""What running one level of a graph reports: its outcome (RunAborted when a limit ended
it), and where it stands when it pauses at a human-input node (the part of a paused run's
snapshot the scheduler resumes from, without re-running finished nodes)."""

from dataclasses import dataclass, field
from typing import Any

from app.engine.nodes.base import Usage


class RunAborted(Exception):
    """A limit was reached: the run fails with this message."""


@dataclass(slots=True)
class LevelState:
    """Where a paused level stands: enough to go on without re-running finished nodes."""

    edges: dict[str, int]
    skipped: list[str]
    steps: int
    exceptions: int
    ready: list[tuple[str, str | None]]  # the paused nodes, each with its predecessor

    def dump(self) -> dict[str, Any]:
        return {
            "edges": self.edges,
            "skipped": self.skipped,
            "steps": self.steps,
            "exceptions": self.exceptions,
            "ready": [list(item) for item in self.ready],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> "LevelState":
        return cls(
            edges={str(k): int(v) for k, v in data["edges"].items()},
            skipped=[str(n) for n in data["skipped"]],
            steps=int(data["steps"]),
            exceptions=int(data["exceptions"]),
            ready=[(str(n), None if p is None else str(p)) for n, p in data["ready"]],
        )


@dataclass(slots=True)
class Paused:
    node_id: str
    predecessor: str | None
    request: dict[str, Any]


@dataclass(slots=True)
class LevelOutcome:
    status: str  # succeeded | failed | stopped | paused
    error: str | None = None
    error_type: str | None = None
    failed_node: str | None = None
    steps: int = 0
    exceptions: int = 0
    loop_ended: bool = False
    usage: Usage = field(default_factory=Usage)  # reported by this level's nodes
    paused: list[Paused] = field(default_factory=list)
    state: LevelState | None = None  # set when paused
