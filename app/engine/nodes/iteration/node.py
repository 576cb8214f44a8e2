"""`iteration`: runs its inside once per item of an array and collects one output per item.

As Dify (api/core/workflow/nodes/iteration/iteration_node.py, 1.9+) does:
- `iterator_selector` must name an array; a missing variable or a value that is not an
  array fails the node; None or an empty array outputs `[]` at once, without events.
- Each round sets `[iteration, item]` and `[iteration, index]`, runs the inside from its
  start node (an `iteration-start` node, or in DSL 0.1.0 the first real child), then reads
  `output_selector` (None when missing). Each round starts without the outputs of the
  previous one. Sequential rounds run on the run's pool; parallel rounds (`is_parallel`,
  at most `parallel_nums` at once, asyncio tasks) each on a fork of it, so their children
  cannot see each other's values. Outputs keep item order either way.
- A failed round: `terminated` (default) fails the node with the round's error (the
  outputs so far go with it); `continue-on-error` keeps None at its index;
  `remove-abnormal-output` drops it (only failed rounds: Dify's parallel mode also drops
  rounds that succeeded with None). A run limit reached inside a round always fails it.
- `flatten_output` (default true): when every non-None output is a list, they are joined
  into one list (None outputs dropped).
- Events: `iteration_started` (inputs `{iterator_selector: items}`, metadata
  `{iteration_length}`), `iteration_next` before each round, `iteration_completed` (outputs,
  steps = number of items, tokens and `iteration_duration_map`), then the scheduler's
  `node_finished`. Nodes inside carry `iteration_id` and `iteration_index` (the RunScope).
"""

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import (
    Node,
    NodeConfigError,
    NodeContext,
    NodeError,
    NodeResult,
    SubgraphOutcome,
    Usage,
)
from app.engine.nodes.containers import ContainerEvents, end_if_interrupted, usage_metadata
from app.engine.variables.pool import MISSING, VariablePool

TERMINATED = "terminated"
CONTINUE_ON_ERROR = "continue-on-error"
REMOVE_ABNORMAL_OUTPUT = "remove-abnormal-output"
ERROR_MODES = (TERMINATED, CONTINUE_ON_ERROR, REMOVE_ABNORMAL_OUTPUT)

_FAILED = object()  # a failed round's place in the outputs, until the error mode decides


class _RoundFailed(Exception):
    def __init__(self, index: int, outcome: SubgraphOutcome) -> None:
        super().__init__(outcome.error)
        self.index = index
        self.outcome = outcome


def _selector(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or len(value) < 2:
        raise NodeConfigError(f"the iteration has no {key.replace('_', ' ')}")
    return tuple(str(part) for part in value)


def flatten(outputs: Sequence[Any]) -> list[Any]:
    """Dify's `_flatten_outputs_if_needed`: lists joined one level when every non-None
    output is a list (None outputs dropped); anything else unchanged."""
    present = [output for output in outputs if output is not None]
    if not present or not all(isinstance(output, list) for output in present):
        return list(outputs)
    return [item for output in present for item in output]


class IterationNode(Node):
    node_type = "iteration"
    is_container = True

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        data = spec.data
        self.iterator_selector = _selector(data, "iterator_selector")
        self.output_selector = _selector(data, "output_selector")
        self.is_parallel = bool(data.get("is_parallel", False))
        nums = data.get("parallel_nums", 10)
        if isinstance(nums, bool) or not isinstance(nums, int | float):
            raise NodeConfigError(f"parallel_nums must be a number, not {nums!r}")
        self.parallel_nums = int(nums)
        if self.is_parallel and self.parallel_nums < 1:
            raise NodeConfigError("parallel_nums must be at least 1")
        mode = data.get("error_handle_mode") or TERMINATED
        if mode not in ERROR_MODES:
            raise NodeConfigError(f"unknown error_handle_mode {mode!r}")
        self.error_mode = str(mode)
        self.flatten_output = data.get("flatten_output", True) is not False

    async def run(self, ctx: NodeContext) -> NodeResult:
        value = ctx.pool.lookup(self.iterator_selector)
        if value is MISSING:
            raise NodeError(
                f"iterator variable {list(self.iterator_selector)} not found",
                "IteratorVariableNotFoundError",
            )
        if value is None or value == []:
            return NodeResult(outputs={"output": []}, inputs={"iterator_selector": []})
        if not isinstance(value, list):
            raise NodeError(
                f"Invalid iterator value: {value}, please provide a list.",
                "InvalidIteratorValueError",
            )
        return await _Run(self, ctx, value).run()


class _Run:
    """One run of an iteration node over its items."""

    def __init__(self, node: IterationNode, ctx: NodeContext, items: list[Any]) -> None:
        self.node = node
        self.ctx = ctx
        self.items = items
        self.inputs: dict[str, Any] = {"iterator_selector": items}
        self.outputs: list[Any] = [None] * len(items)
        self.durations: dict[str, float] = {}
        self.usage = Usage()
        self.events = ContainerEvents(ctx, "iteration")

    async def run(self) -> NodeResult:
        self.events.start(self.inputs, {"iterator_length": len(self.items)})
        try:
            if self.node.is_parallel:
                await self._parallel()
            else:
                for index in range(len(self.items)):
                    await self._round(index, self.ctx.pool)
        except _RoundFailed as failed:
            outcome = failed.outcome
            # Dify's partial outputs: sequential rounds the ones before the failure,
            # parallel rounds every place (None where a round had not finished).
            end = len(self.items) if self.node.is_parallel else failed.index
            outputs = {"output": self._collected(self.outputs[:end])}
            self._completed("failed", outputs)
            raise NodeError(
                outcome.error or "iteration failed",
                outcome.error_type or "IterationNodeError",
                outputs=outputs,
                inputs=self.inputs,
            ) from None
        outputs = {"output": self._collected(self.outputs)}
        metadata = self._completed("succeeded", outputs)
        return NodeResult(
            outputs=outputs,
            inputs=self.inputs,
            usage=self.usage,
            metadata={"iteration_duration_map": metadata["iteration_duration_map"]},
        )

    async def _round(self, index: int, pool: VariablePool) -> None:
        ctx, node = self.ctx, self.node
        await end_if_interrupted(ctx)
        self.events.next(index)
        pool.add(node.id, "index", index)
        pool.add(node.id, "item", self.items[index])
        scope = dataclasses.replace(ctx.scope, iteration_id=node.id, iteration_index=index)
        started = time.perf_counter()
        assert ctx.run_subgraph is not None  # the scheduler gives containers their runner
        outcome = await ctx.run_subgraph(pool, scope)
        self.durations[str(index)] = time.perf_counter() - started
        self.usage = self.usage.plus(outcome.usage)
        await end_if_interrupted(ctx, outcome)
        if not outcome.failed:
            self.outputs[index] = pool.get(node.output_selector)
        elif node.error_mode == TERMINATED:
            raise _RoundFailed(index, outcome)
        else:
            self.outputs[index] = _FAILED

    async def _parallel(self) -> None:
        pending = iter(range(len(self.items)))

        async def worker() -> None:
            for index in pending:  # shared: each index goes to one worker
                await self._round(index, self.ctx.pool.fork())

        workers = [
            asyncio.create_task(worker(), name=f"iteration-{self.node.id}")
            for _ in range(min(self.node.parallel_nums, len(self.items)))
        ]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                error = task.exception()
                if error is not None:
                    raise error
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _collected(self, outputs: list[Any]) -> list[Any]:
        """The outputs in item order, failed rounds as the error mode says: None
        (`continue-on-error`) or left out (`remove-abnormal-output`)."""
        kept: list[Any] = []
        for output in outputs:
            if output is _FAILED:
                if self.node.error_mode == REMOVE_ABNORMAL_OUTPUT:
                    continue
                output = None
            kept.append(output)
        return flatten(kept) if self.node.flatten_output else kept

    def _completed(self, status: str, outputs: dict[str, Any]) -> dict[str, Any]:
        metadata = {**usage_metadata(self.usage), "iteration_duration_map": self.durations}
        self.events.completed(
            inputs=self.inputs,
            outputs=outputs,
            status=status,
            steps=len(self.items),
            metadata=metadata,
        )
        return metadata
