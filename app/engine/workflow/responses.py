"""Answer streaming: the text of answer nodes (advanced-chat) or end nodes (workflow) goes
out in template order, as early as its inputs allow, never interleaved (Dify's response
coordinator).

Each response node is a session: its template split into text and variable pieces. A
session becomes eligible once its nearest upstream branch and response nodes have finished
(so earlier answers, and the branch decisions that could skip it, come first), and so
have the upstream nodes that write a variable it shows besides their own outputs (an
assigner updating a conversation variable, Dify's `blocks_variable_output`); eligible
sessions stream one at a time in the order they became eligible. A piece that is a
streaming node's `text` relays that node's chunks as they come; any other variable goes
out whole once its node has finished. Only top-level nodes stream in that order; an answer
inside an iteration or loop says its whole text each round as it succeeds (`passthrough`),
outside the order, as Dify forwards a container's answers."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.graph.model import Graph, NodeSpec
from app.engine.variables.pool import MISSING, RESERVED, VariablePool
from app.engine.variables.templates import Part, parse_template
from app.engine.variables.values import to_markdown

Emit = Callable[[str, list[str]], None]  # text, from_variable_selector


@dataclass(slots=True)
class _Session:
    node_id: str
    parts: tuple[Part, ...]
    deps: frozenset[str]
    position: int = 0
    relayed: int = 0  # chunks of the current streaming piece already sent
    queued: bool = False


def _end_parts(spec: NodeSpec) -> tuple[Part, ...]:
    parts: list[Part] = []
    for index, output in enumerate(spec.data.get("outputs") or []):
        selector = output.get("value_selector") if isinstance(output, dict) else None
        if not selector:
            continue
        if index:
            parts.append("\n")
        parts.append(tuple(str(s) for s in selector))
    return tuple(parts)


def response_parts(spec: NodeSpec) -> tuple[Part, ...]:
    if spec.type == "answer":
        return parse_template(str(spec.data.get("answer") or ""))
    return _end_parts(spec)


class ResponseCoordinator:
    def __init__(
        self,
        level: Graph,
        response_type: str,  # "answer" (advanced-chat) or "end" (workflow)
        is_stop_point: Callable[[str], bool],  # branch nodes and response nodes
        streaming_nodes: Iterable[str],
        pool: VariablePool,
        emit: Emit,
        writers: Mapping[str, frozenset[tuple[str, str]]] | None = None,
    ) -> None:
        self._level = level
        self._pool = pool
        self._emit = emit
        # Only this level's nodes relay chunks here; a streaming node inside a container
        # is a plain value once its container has finished.
        self._streaming = frozenset(streaming_nodes) & level.members
        self._finished: set[str] = set()
        self._chunks: dict[str, list[str]] = {}
        self._queue: list[_Session] = []
        self._sessions: list[_Session] = []
        self.text_parts: list[str] = []
        order = [n for n in level.nodes if n in level.members]  # DSL order
        for node_id in order:
            spec = level.spec(node_id)
            if spec.type == response_type:
                parts = response_parts(spec)
                reads = frozenset(
                    (p[0], p[1]) for p in parts if isinstance(p, tuple) and len(p) > 1
                )
                deps = self._nearest_stops(node_id, _blocking(is_stop_point, writers or {}, reads))
                self._sessions.append(_Session(node_id, parts, deps))
        self._promote()  # streaming starts with the first finished node

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def _nearest_stops(self, node_id: str, is_stop: Callable[[str], bool]) -> frozenset[str]:
        found: set[str] = set()
        seen = {node_id}
        stack = [edge.source for edge in self._level.incoming[node_id]]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if is_stop(current):
                found.add(current)
                continue
            stack.extend(edge.source for edge in self._level.incoming[current])
        return frozenset(found)

    def export(self) -> dict[str, Any]:
        """Where streaming stands when the run pauses (no chunk is half relayed then: every
        streaming node has finished and what it streamed went out)."""
        return {
            "finished": sorted(self._finished),
            "text": self.text,
            "sessions": [[s.node_id, s.position, s.queued] for s in self._sessions],
            "queue": [s.node_id for s in self._queue],
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from `export()`: answers already sent are not sent again."""
        self._finished = {str(n) for n in state["finished"]}
        self.text_parts = [str(state["text"])] if state["text"] else []
        saved = {str(n): (int(p), bool(q)) for n, p, q in state["sessions"]}
        self._sessions = [s for s in self._sessions if s.node_id in saved]
        for session in self._sessions:
            session.position, session.queued = saved[session.node_id]
        by_id = {s.node_id: s for s in self._sessions}
        self._queue = [by_id[str(n)] for n in state["queue"] if str(n) in by_id]

    # -- what the scheduler reports ----------------------------------------------------
    def node_finished(self, node_id: str) -> None:
        """A node of this level succeeded or failed over to an error strategy (called once
        the nodes it skipped were reported)."""
        self._finished.add(node_id)
        self._promote()
        self._advance()

    def chunk(self, node_id: str, text: str) -> None:
        self._chunks.setdefault(node_id, []).append(text)
        if self._queue and self._current_source() == node_id:
            self._advance()

    def finish(self) -> None:
        """The run ended well: everything left that is not skipped goes out now."""
        self._finished.update(self._level.members)
        self._promote()
        self._advance()

    def skipped(self, node_ids: Iterable[str]) -> None:
        """Nodes skipped together (a branch not taken, all of it): a skipped response node
        says nothing (unless it already began). They count as finished; the caller then
        reports the branch node that skipped them (node_finished), which moves streaming on."""
        ids = set(node_ids)
        drop = [s for s in self._sessions if s.node_id in ids and not s.position]
        for session in drop:
            self._sessions.remove(session)
            if session in self._queue:
                self._queue.remove(session)
        self._finished.update(ids)

    def passthrough(self, node_id: str, text: str) -> None:
        """An answer node inside a container succeeded: its text goes out now."""
        self._say(text, [node_id, "answer"])

    # -- streaming ---------------------------------------------------------------------
    def _promote(self) -> None:
        for session in self._sessions:
            if not session.queued and session.deps <= self._finished:
                session.queued = True
                self._queue.append(session)

    def _current_source(self) -> str | None:
        session = self._queue[0]
        if session.position >= len(session.parts):
            return None
        part = session.parts[session.position]
        return part[0] if isinstance(part, tuple) else None

    def _owner(self, node_id: str) -> str:
        """The top-level node a variable's node belongs to (a container for its children)."""
        spec = self._level.nodes.get(node_id)
        while spec is not None and spec.parent_id is not None:
            spec = self._level.nodes.get(spec.parent_id)
        return spec.id if spec is not None else node_id

    def _pending(self, source: str) -> bool:
        """A variable's node may still produce it (reserved namespaces and unknown nodes
        never will: they render as they are now)."""
        if source in RESERVED or source not in self._level.nodes:
            return False
        return self._owner(source) not in self._finished

    def _advance(self) -> None:
        while self._queue:
            session = self._queue[0]
            if not self._run_session(session):
                return
            self._queue.pop(0)
            self._sessions.remove(session)

    def _say(self, text: str, selector: list[str]) -> None:
        if text:
            self.text_parts.append(text)
            self._emit(text, selector)

    def _run_session(self, session: _Session) -> bool:
        """Send what can be sent; True once the whole template went out."""
        answer_selector = [session.node_id, "answer"]
        while session.position < len(session.parts):
            part = session.parts[session.position]
            if isinstance(part, str):
                self._say(part, answer_selector)
                session.position += 1
                continue
            source = part[0]
            if source in self._streaming and part[1:] == ("text",):
                chunks = self._chunks.get(source, [])
                while session.relayed < len(chunks):
                    self._say(chunks[session.relayed], list(part))
                    session.relayed += 1
                if source not in self._finished:
                    return False
                if not chunks:  # it finished without streaming (a default value, say)
                    self._say_value(part)
                session.position += 1
                session.relayed = 0
                continue
            if self._pending(source):
                return False
            self._say_value(part)
            session.position += 1
        return True

    def _say_value(self, selector: tuple[str, ...]) -> None:
        value = self._pool.lookup(selector)
        text = ".".join(selector) if value is MISSING else to_markdown(value)
        self._say(text, list(selector))


def _blocking(
    is_stop_point: Callable[[str], bool],
    writers: Mapping[str, frozenset[tuple[str, str]]],
    reads: frozenset[tuple[str, str]],
) -> Callable[[str], bool]:
    """Stop points for one response: branch and response nodes, and nodes that write a
    variable it shows (an assigner updating a conversation variable): it waits for them."""
    return lambda node_id: is_stop_point(node_id) or bool(writers.get(node_id, frozenset()) & reads)


def response_text(parts: tuple[Part, ...], pool: VariablePool) -> str:
    """A response template rendered whole (an answer node's own `answer` output)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            value = pool.lookup(part)
            out.append(".".join(part) if value is MISSING else to_markdown(value))
    return "".join(out)


__all__ = ["ResponseCoordinator", "response_parts", "response_text"]
