"""What the two container nodes (iteration, loop) share: their events' data, as Dify's
IterationNode*/LoopNode*StreamResponse classes carry it, and how a round that was
interrupted by a stop request or a run limit ends the container."""

import asyncio
import time
from typing import Any, NoReturn

from app.engine.nodes.base import NodeContext, NodeError, SubgraphOutcome, Usage
from app.engine.variables.values import plain

RUN_ABORTED = "RunAborted"  # the scheduler's error type when a run limit is reached


class ContainerEvents:
    """`<kind>_started`, `<kind>_next` and `<kind>_completed` for one container run.

    Dify sends the container's node id as the events' `id`, `extras` empty, and no
    `error` in the completed event (its status says whether the container failed)."""

    def __init__(self, ctx: NodeContext, kind: str) -> None:
        self._ctx = ctx
        self._kind = kind
        self.started = time.time()

    def _send(self, suffix: str, data: dict[str, Any]) -> None:
        if self._ctx.emit is None:
            return
        spec = self._ctx.spec
        head = {
            "id": spec.id,
            "node_id": spec.id,
            "node_type": spec.type,
            "title": spec.title,
        }
        self._ctx.emit(f"{self._kind}_{suffix}", {**head, **data})

    def start(self, inputs: dict[str, Any], metadata: dict[str, Any]) -> None:
        self._send(
            "started",
            {
                "created_at": int(self.started),
                "extras": {},
                "metadata": metadata,
                "inputs": plain(inputs),
                "inputs_truncated": False,
            },
        )

    def next(self, index: int, **extra: Any) -> None:
        self._send("next", {"index": index, "created_at": int(time.time()), "extras": {}, **extra})

    def completed(
        self,
        *,
        inputs: dict[str, Any],
        outputs: dict[str, Any],
        status: str,
        steps: int,
        metadata: dict[str, Any],
    ) -> None:
        now = time.time()
        self._send(
            "completed",
            {
                "outputs": plain(outputs),
                "outputs_truncated": False,
                "created_at": int(now),  # Dify stamps each event when it sends it
                "extras": {},
                "inputs": plain(inputs),
                "inputs_truncated": False,
                "status": status,
                "error": None,
                "elapsed_time": now - self.started,
                "total_tokens": metadata.get("total_tokens", 0),
                "execution_metadata": metadata,
                "finished_at": int(now),
                "steps": steps,
            },
        )


def usage_metadata(usage: Usage) -> dict[str, Any]:
    return {
        "total_tokens": usage.total_tokens,
        "total_price": usage.total_price,
        "currency": usage.currency,
    }


async def end_if_interrupted(ctx: NodeContext, outcome: SubgraphOutcome | None = None) -> None:
    """Between rounds: a stop request ends the container (the level running it cancels it:
    waiting here keeps the run `stopped` rather than failed); a run limit reached inside a
    round fails it whatever its error mode, with the limit's message."""
    if ctx.run.stop.is_set() or (outcome is not None and outcome.interrupted):
        await _until_cancelled()
    if outcome is not None and outcome.failed and outcome.error_type == RUN_ABORTED:
        raise NodeError(outcome.error or "The run was aborted", RUN_ABORTED)


async def _until_cancelled() -> NoReturn:
    # Never set: every level watches the stop signal and cancels the nodes it runs, this
    # one included, so the container ends as the run does (stopped, not failed).
    await asyncio.Event().wait()
    raise NodeError("The run was stopped", "Stopped")  # not reached
