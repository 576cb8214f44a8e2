"""`loop`: runs its inside round after round, at most `loop_count` times, until a break
condition holds or a `loop-end` node is reached; its outputs are the loop variables.

Semantics are current Dify's (1.9+ LoopNode, the same in graphon, which Dify now runs):
- Loop variables are set at `[loop, label]` when the loop starts (typed constants, or
  the value a selector reads: a missing one fails the node with "Invalid value for loop
  variable <label>"). They live on the run's pool, so nodes inside (assigners) update
  them and every round, and the nodes after the loop, see the latest values.
- The break conditions (`break_conditions`, `logical_operator`) are checked before the
  first round (a condition that cannot be evaluated reads as false there) and after each
  round (where such a condition fails the loop). Never in the middle of a round.
- `[loop, index]` is not set: current Dify does not set it (Dify 1.1-1.8 did, 0-based,
  and then checked the conditions after every node of a round instead).
- Each round runs on the run's pool, without the previous round's child outputs. A round
  that reaches a `loop-end` node ends the loop. A failed round fails the loop with its
  error (Dify's loop has no error modes: `error_handle_mode` is ignored).
- Outputs: each loop variable by label and `loop_round` (rounds run); `{}` when the
  conditions held before the first round.
- Events: `loop_started` (inputs `{loop_count, <label>: value}`, metadata
  `{loop_length}`), `loop_next` (index of the next round, `pre_loop_output` `{}`) between
  rounds, `loop_completed` (metadata `completed_reason` `loop_break` when the conditions
  or a loop-end ended it, else `loop_completed`; `loop_duration_map`, `loop_variable_map`),
  then the scheduler's `node_finished`. Nodes inside carry `loop_id` and `loop_index`.
"""

import copy
import dataclasses
import time
from typing import Any, NoReturn

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import (
    Node,
    NodeConfigError,
    NodeContext,
    NodeError,
    NodeResult,
    Usage,
)
from app.engine.nodes.containers import ContainerEvents, end_if_interrupted, usage_metadata
from app.engine.nodes.loop.variables import LoopVariable, parse_loop_variables
from app.engine.variables.conditions import (
    ConditionError,
    InvalidConditions,
    evaluate,
    parse_conditions,
    parse_logical_operator,
)
from app.engine.variables.pool import MISSING


class LoopNode(Node):
    node_type = "loop"
    is_container = True

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        data = spec.data
        count = data.get("loop_count")
        if isinstance(count, bool) or not isinstance(count, int | float) or count < 0:
            raise NodeConfigError(f"loop_count must be a whole number, not {count!r}")
        self.loop_count = int(count)
        try:
            self.conditions = parse_conditions(data.get("break_conditions"))
            self.logical_operator = parse_logical_operator(data.get("logical_operator"))
        except InvalidConditions as exc:
            raise NodeConfigError(f"break conditions: {exc}") from exc
        self.variables: tuple[LoopVariable, ...] = parse_loop_variables(data.get("loop_variables"))

    def _break(self, ctx: NodeContext) -> bool:
        if not self.conditions:
            return False
        return evaluate(self.conditions, self.logical_operator, ctx.pool).final

    async def run(self, ctx: NodeContext) -> NodeResult:
        inputs: dict[str, Any] = {"loop_count": self.loop_count}
        for variable in self.variables:
            if variable.selector is None:
                value = variable.constant
            else:
                value = ctx.pool.lookup(variable.selector)
                if value is MISSING:
                    raise NodeError(
                        f"Invalid value for loop variable {variable.label}", "ValueError"
                    )
            # Copies: nodes inside may change the value in place; the constant, the source
            # and the recorded inputs stay as they were.
            ctx.pool.add(self.id, variable.label, copy.deepcopy(value))
            inputs[variable.label] = copy.deepcopy(value)
        return await _Run(self, ctx, inputs).run()


class _Run:
    """One run of a loop node."""

    def __init__(self, node: LoopNode, ctx: NodeContext, inputs: dict[str, Any]) -> None:
        self.node = node
        self.ctx = ctx
        self.inputs = inputs
        self.outputs: dict[str, Any] = {}
        self.durations: dict[str, float] = {}
        self.variable_map: dict[str, dict[str, Any]] = {}
        self.usage = Usage()
        self.events = ContainerEvents(ctx, "loop")

    def _variables(self) -> dict[str, Any]:
        """The loop variables now (copies: later rounds may change them in place)."""
        pool, node_id = self.ctx.pool, self.node.id
        return {v.label: copy.deepcopy(pool.get((node_id, v.label))) for v in self.node.variables}

    async def run(self) -> NodeResult:
        node, ctx = self.node, self.ctx
        self.events.start(self.inputs, {"loop_length": node.loop_count})
        try:
            broke = node._break(ctx)
        except ConditionError:
            broke = False
        rounds = 0 if broke else node.loop_count
        for index in range(rounds):
            await end_if_interrupted(ctx)
            scope = dataclasses.replace(ctx.scope, loop_id=node.id, loop_index=index)
            started = time.perf_counter()
            assert ctx.run_subgraph is not None  # the scheduler gives containers their runner
            outcome = await ctx.run_subgraph(ctx.pool, scope)
            self.durations[str(index)] = time.perf_counter() - started
            self.usage = self.usage.plus(outcome.usage)
            await end_if_interrupted(ctx, outcome)
            variables = self._variables()
            self.variable_map[str(index)] = variables
            if outcome.failed:
                self._fail(outcome.error or "loop failed", outcome.error_type or "LoopNodeError")
            self.outputs = {**variables, "loop_round": index + 1}
            if outcome.stopped:  # a loop-end node was reached
                broke = True
                break
            try:
                broke = node._break(ctx)
            except ConditionError as exc:
                self._fail(str(exc), "ConditionError")
            if broke:
                break
            if index + 1 < rounds:
                self.events.next(index + 1, pre_loop_output={})
        metadata = self._metadata()
        self.events.completed(
            inputs=self.inputs,
            outputs=self.outputs,
            status="succeeded",
            steps=rounds,
            metadata={**metadata, "completed_reason": "loop_break" if broke else "loop_completed"},
        )
        return NodeResult(
            outputs=self.outputs,
            inputs=self.inputs,
            usage=self.usage,
            metadata={k: v for k, v in metadata.items() if k.startswith("loop_")},
        )

    def _metadata(self) -> dict[str, Any]:
        return {
            **usage_metadata(self.usage),
            "loop_duration_map": self.durations,
            "loop_variable_map": self.variable_map,
        }

    def _fail(self, error: str, error_type: str) -> NoReturn:
        self.events.completed(
            inputs=self.inputs,
            outputs={},
            status="failed",
            steps=self.node.loop_count,
            metadata={**self._metadata(), "completed_reason": "error"},
        )
        raise NodeError(error, error_type, inputs=self.inputs)
