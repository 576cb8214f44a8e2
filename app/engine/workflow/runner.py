"""The scheduler: runs one level of a workflow graph (the top level, or one round of a
container's inside) as Dify's queue-based engine does, on asyncio.

Every edge starts unknown. A node that succeeds takes all its outgoing edges; a branch node
takes the edges of the handle it selected and skips the rest, and a node whose incoming
edges are all skipped is skipped in turn, its outgoing edges with it. A node is ready when
none of its incoming edges is unknown and at least one is taken, so a join after a fan-out
waits for every branch while a join after an if-else runs once. Ready nodes run at once,
each as its own task; the level ends when nothing runs and nothing is ready."""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.engine.graph.model import SOURCE, Graph
from app.engine.nodes.base import (
    Node,
    NodeContext,
    NodeError,
    NodePaused,
    NodeResult,
    SubgraphOutcome,
    Usage,
)
from app.engine.variables.pool import VariablePool
from app.engine.workflow.env import RunScope
from app.engine.workflow.events import NodeExecution
from app.engine.workflow.failures import error_outputs, retry_settings, strategy_of
from app.engine.workflow.level import LevelOutcome, LevelState, Paused, RunAborted
from app.engine.workflow.responses import ResponseCoordinator
from app.engine.workflow.state import RunState

logger = logging.getLogger("kiln.workflow")

UNKNOWN, TAKEN, SKIPPED = 0, 1, 2
FAIL_BRANCH = "fail-branch"


@dataclass(slots=True)
class _Done:
    node_id: str
    handle: str | None  # None: the node failed and the level ends
    error: str | None = None
    error_type: str | None = None
    loop_end: bool = False
    paused: Paused | None = None


class LevelRunner:
    def __init__(
        self,
        engine: RunState,
        level: Graph,
        pool: VariablePool,
        scope: RunScope,
        coordinator: ResponseCoordinator | None = None,
        root_id: str | None = None,
        other_roots: tuple[str, ...] = (),
        resume: LevelState | None = None,
    ) -> None:
        self._engine = engine
        self._level = level
        self._root_id = root_id or level.root_id
        self._other_roots = other_roots
        self._pool = pool
        self._scope = scope
        self._coordinator = coordinator
        self._edges: dict[str, int] = {edge.id: UNKNOWN for edge in level.edges}
        self._skipped: list[str] = []  # in the order they were skipped
        self._steps = 0
        self._exceptions = 0
        self._usage = Usage()
        self._running: dict[asyncio.Task[_Done], str] = {}
        self._paused: list[Paused] = []
        self._resume = resume
        if resume is not None:
            self._edges.update(resume.edges)
            self._skipped = list(resume.skipped)
            self._steps, self._exceptions = resume.steps, resume.exceptions

    async def run(self) -> LevelOutcome:
        run = self._engine.run
        ready: list[tuple[str, str | None]]
        if self._resume is not None:  # the paused nodes run again, with their answers
            ready = list(self._resume.ready)
        else:
            ready = [(self._root_id, None)]
            self._skip_other_roots()
        outcome: LevelOutcome | None = None
        stop_wait = asyncio.ensure_future(run.stop.wait())
        try:
            while ready or self._running:
                for node_id, predecessor in ready:
                    self._start(node_id, predecessor)
                ready = []
                waits: set[asyncio.Future[Any]] = {*self._running, stop_wait}
                done, _ = await asyncio.wait(
                    waits, timeout=run.remaining(), return_when=asyncio.FIRST_COMPLETED
                )
                if stop_wait in done:
                    outcome = LevelOutcome("stopped")
                    break
                if not done:
                    limit = self._engine.run_seconds
                    raise RunAborted(f"Maximum execution time exceeded: {limit}s")
                for future in done:
                    node_id = self._running.pop(future)  # type: ignore[call-overload]
                    finished: _Done = future.result()
                    if finished.paused is not None:  # its branch waits; others go on
                        self._paused.append(finished.paused)
                        continue
                    if finished.handle is None:
                        outcome = LevelOutcome(
                            "failed", finished.error, finished.error_type, node_id
                        )
                        break
                    if finished.loop_end:
                        outcome = LevelOutcome("succeeded", loop_ended=True)
                        break
                    ready += self._after(node_id, finished.handle)
                if outcome is not None:
                    break
        except RunAborted as exc:
            outcome = LevelOutcome("failed", str(exc), "RunAborted")
        finally:
            stop_wait.cancel()
            await self._cancel_running()
        if outcome is None and self._paused:
            outcome = LevelOutcome("paused", paused=self._paused, state=self._state())
        if outcome is None:
            outcome = LevelOutcome("succeeded")
        outcome.steps, outcome.exceptions = self._steps, self._exceptions
        outcome.usage = self._usage
        return outcome

    def _state(self) -> LevelState:
        return LevelState(
            edges=dict(self._edges),
            skipped=list(self._skipped),
            steps=self._steps,
            exceptions=self._exceptions,
            ready=[(p.node_id, p.predecessor) for p in self._paused],
        )

    async def _cancel_running(self) -> None:
        for task in self._running:
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        self._running.clear()

    # -- edges -------------------------------------------------------------------------
    def _skip_other_roots(self) -> None:
        """Entry points this run did not start from (a start node beside triggers, or the
        other triggers) are skipped with everything only they lead to, as Dify marks
        inactive root branches before a run: a join they share with the active root waits
        for nothing of theirs."""
        if not self._other_roots:
            return
        never: list[tuple[str, str | None]] = []  # nothing is taken yet: nothing gets ready
        for root in self._other_roots:
            self._skipped.append(root)
            for edge in self._level.outgoing[root]:
                self._edges[edge.id] = SKIPPED
        for root in self._other_roots:
            for target in dict.fromkeys(e.target for e in self._level.outgoing[root]):
                self._settle(target, never, predecessor=root)
        if self._coordinator is not None:
            self._coordinator.skipped(self._skipped)

    def _after(self, node_id: str, handle: str) -> list[tuple[str, str | None]]:
        """Mark the node's outgoing edges; return the nodes that became ready."""
        branching = self._engine.is_branch(node_id)
        touched: list[str] = []
        for edge in self._level.outgoing[node_id]:
            taken = (
                not branching
                or edge.handle == handle
                or (handle == SOURCE and edge.handle == "success-branch")
            )
            self._edges[edge.id] = TAKEN if taken else SKIPPED
            touched.append(edge.target)
        ready: list[tuple[str, str | None]] = []
        skipped_before = len(self._skipped)
        for target in dict.fromkeys(touched):  # several edges may lead to one node
            self._settle(target, ready, predecessor=node_id)
        # Answers hear of a finished node only now, once every node on the branches it did
        # not take is known to be skipped: an answer on one of them must never stream.
        if self._coordinator is not None:
            self._coordinator.skipped(self._skipped[skipped_before:])
            self._coordinator.node_finished(node_id)
        return ready

    def _settle(self, node_id: str, ready: list[tuple[str, str | None]], predecessor: str) -> None:
        incoming = self._level.incoming[node_id]
        states = [self._edges[edge.id] for edge in incoming]
        if UNKNOWN in states:
            return
        if TAKEN in states:
            ready.append((node_id, predecessor))
            return
        # Every way in was skipped: so is this node, and everything only it leads to.
        self._skipped.append(node_id)
        for edge in self._level.outgoing[node_id]:
            self._edges[edge.id] = SKIPPED
        for target in dict.fromkeys(edge.target for edge in self._level.outgoing[node_id]):
            self._settle(target, ready, predecessor=node_id)

    # -- running a node ----------------------------------------------------------------
    def _start(self, node_id: str, predecessor: str | None) -> None:
        self._steps += 1
        limit = self._engine.workflow.limits.max_steps
        if self._steps > limit:
            raise RunAborted(f"Maximum execution steps exceeded: {self._steps} > {limit}")
        task = asyncio.create_task(self._execute(node_id, predecessor), name=f"node-{node_id}")
        self._running[task] = node_id

    async def _execute(self, node_id: str, predecessor: str | None) -> _Done:
        engine = self._engine
        node = engine.nodes[node_id]
        if node.silent:  # a container's start marker: passed through, never reported
            return _Done(node_id, SOURCE)
        execution = NodeExecution(
            id=str(uuid.uuid4()),
            spec=node.spec,
            index=engine.totals.index(),
            predecessor_node_id=predecessor,
            scope=self._scope,
            started=time.time(),
        )
        engine.totals.steps += 1
        engine.emit(engine.stream.node_started(execution))
        try:
            result = await self._attempts(node, execution)
        except NodePaused as paused:  # no node_finished event: it finishes once resumed
            execution.status = "paused"  # stored as Dify stores it; a resumption adds a row
            engine.node_finished(execution)
            return _Done(node_id, None, paused=Paused(node_id, predecessor, paused.request))
        except NodeError as exc:
            return self._failed(node, execution, exc)
        self._succeeded(node, execution, result)
        return _Done(node_id, result.handle, loop_end=node.spec.type == "loop-end")

    async def _attempts(self, node: Node, execution: NodeExecution) -> NodeResult:
        retries, interval = retry_settings(node.spec)
        attempt = 0
        while True:
            try:
                return await self._once(node, execution)
            except NodeError as exc:
                if attempt >= retries:
                    raise
                attempt += 1
                self._record_failure(execution, exc, status="retry")
                execution.retry_index = attempt
                self._engine.emit(self._engine.stream.node_finished(execution, "node_retry"))
                if interval:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._engine.run.stop.wait(), interval)
                execution.finished = None

    async def _once(self, node: Node, execution: NodeExecution) -> NodeResult:
        engine = self._engine
        on_top = self._coordinator is not None and node.streams_text
        stream: Callable[[str], None] = (
            (lambda text: self._coordinator.chunk(node.id, text))  # type: ignore[union-attr]
            if on_top
            else _ignore
        )
        ctx = NodeContext(
            spec=node.spec,
            execution_id=execution.id,
            pool=self._pool,
            run=engine.run,
            workflow=engine.workflow,
            scope=self._scope,
            stream=stream,
            run_subgraph=self._subgraph_runner(node) if node.is_container else None,
            emit=self._container_emitter() if node.is_container or node.emits_events else None,
        )
        try:
            return await node.run(ctx)
        except (NodeError, NodePaused, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug in a node: the node fails, the server does not
            logger.exception("node %s (%s) crashed", node.id, node.spec.type)
            raise NodeError(str(exc) or type(exc).__name__, type(exc).__name__) from exc

    def _record_failure(self, execution: NodeExecution, exc: NodeError, status: str) -> None:
        execution.status = status
        execution.error = exc.message
        execution.error_type = exc.error_type
        execution.inputs = exc.inputs or execution.inputs
        execution.process_data = exc.process_data or None
        execution.outputs = exc.outputs or None
        execution.finished = time.time()

    def _succeeded(self, node: Node, execution: NodeExecution, result: NodeResult) -> None:
        engine = self._engine
        self._pool.add_outputs(node.id, result.outputs)
        execution.status = "succeeded"
        execution.inputs = result.inputs
        execution.process_data = result.process_data
        execution.outputs = result.outputs
        execution.metadata = self._metadata(node, result)
        execution.handle = result.handle
        execution.finished = time.time()
        if node.spec.type == "answer" and node.spec.parent_id is not None:
            answer = result.outputs.get("answer")
            if isinstance(answer, str) and answer:
                engine.on_inner_answer(node.id, answer)
        engine.emit(engine.stream.node_finished(execution))
        engine.node_finished(execution)

    def _failed(self, node: Node, execution: NodeExecution, exc: NodeError) -> _Done:
        engine = self._engine
        self._record_failure(execution, exc, status="failed")
        strategy = strategy_of(node.spec)
        if strategy is None:
            execution.handle = SOURCE  # Dify's record of a failed node keeps the default
            execution.metadata = self._scope.metadata() or None
            engine.emit(engine.stream.node_finished(execution))
            engine.node_finished(execution)
            return _Done(node.id, None, exc.message, exc.error_type)
        outputs = error_outputs(node.spec, strategy, exc)
        self._pool.add_outputs(node.id, outputs)
        execution.status = "exception"
        execution.outputs = outputs
        execution.metadata = {**self._scope.metadata(), "error_strategy": strategy}
        execution.handle = FAIL_BRANCH if strategy == FAIL_BRANCH else SOURCE
        self._exceptions += 1
        engine.totals.exceptions += 1
        engine.emit(engine.stream.node_finished(execution))
        engine.node_finished(execution)
        return _Done(node.id, FAIL_BRANCH if strategy == FAIL_BRANCH else SOURCE)

    def _metadata(self, node: Node, result: NodeResult) -> dict[str, Any] | None:
        metadata: dict[str, Any] = {**self._scope.metadata(), **result.metadata}
        if result.usage is not None:
            usage = result.usage
            metadata.update(
                total_tokens=usage.total_tokens,
                total_price=usage.total_price,
                currency=usage.currency,
            )
            self._usage = self._usage.plus(usage)
            if not node.is_container:  # a container's usage is its inside's, counted there
                self._engine.add_usage(usage)
        return metadata or None

    # -- containers --------------------------------------------------------------------
    def _subgraph_runner(self, node: Node) -> Callable[[VariablePool, RunScope], Any]:
        engine = self._engine
        inner = engine.graph.containers[node.id]
        inside = engine.graph.inside(node.id)

        async def run_round(pool: VariablePool, scope: RunScope) -> SubgraphOutcome:
            # Each round starts without the outputs of the last one (Dify clears them), so
            # a node never reads a value a skipped branch left from an earlier round.
            for node_id in inside:
                pool.remove_node(node_id)
            outcome = await LevelRunner(engine, inner, pool, scope).run()
            failed = outcome.status == "failed"
            if failed:  # counted as Dify's graph engine counts every failed node
                engine.totals.exceptions += 1
            return SubgraphOutcome(
                failed=failed,
                error=outcome.error,
                error_type=outcome.error_type,
                tokens=outcome.usage.total_tokens,
                steps=outcome.steps,
                exceptions=outcome.exceptions,
                stopped=outcome.loop_ended,
                usage=outcome.usage,
                interrupted=outcome.status == "stopped",
            )

        return run_round

    def _container_emitter(self) -> Callable[[str, dict[str, Any]], None]:
        engine = self._engine

        def emit(event: str, data: dict[str, Any]) -> None:
            if event == "agent_log":
                engine.emit(engine.stream.agent_log(data))
                return
            engine.emit(engine.stream.container_event(event, data))

        return emit


def _ignore(_: str) -> None:
    return None
