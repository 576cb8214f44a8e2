"""What an advanced-chat turn does around its workflow, as Dify's advanced-chat runner
does: input moderation and annotation reply first (either may answer instead of the
workflow), output moderation over the streamed answer (a `direct_output` verdict replaces
the answer and stops the run)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.direct_answer import stream_direct_answer
from app.engine.events import Event, MessageStreamContext
from app.engine.moderation.output import OutputGuard
from app.engine.moderation.runner import REPLACE_REASON, Moderation, moderation_for
from app.engine.run_context import RunContext
from app.gateway.types import GatewayError
from app.runtime import Runtime
from app.services.annotations.reply import annotation_answer


@dataclass(slots=True)
class EarlyAnswer:
    """An answer given instead of running the workflow."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    error: GatewayError | None = None  # moderation itself failed


def chat_moderation(runtime: Runtime, app_id: str, features: dict[str, Any]) -> Moderation | None:
    return moderation_for(features, app_id, runtime.settings, runtime.gateway)


async def answer_first(
    runtime: Runtime,
    app_id: str,
    moderation: Moderation | None,
    ctx: MessageStreamContext,
    run: RunContext,
    inputs: dict[str, Any],
    query: str,
) -> EarlyAnswer | None:
    if moderation is not None:
        try:
            decision = await moderation.check_input(inputs, query)
        except GatewayError as exc:
            return EarlyAnswer("", error=exc)
        if decision.preset is not None:
            await stream_direct_answer(decision.preset, ctx, run)
            return EarlyAnswer(decision.preset)
        query = decision.query
    found = await annotation_answer(runtime, app_id, query, ctx, run)
    if found is not None:
        return EarlyAnswer(found.text, found.metadata)
    return None


@dataclass(slots=True)
class GuardedStream:
    """Feeds the answer's `message` events to output moderation; once a direct output
    took over, further answer text is dropped and the run is stopped."""

    guard: OutputGuard
    stop: asyncio.Event

    def wrap(self, emit: Callable[[Event], None]) -> Callable[[Event], None]:
        def guarded(event: Event) -> None:
            if event.get("event") == "message":
                if self.guard.final_output is not None:
                    return
                self.guard.append(str(event.get("answer") or ""))
            emit(event)
            if self.guard.blocked.is_set():
                self.stop.set()

        return guarded


def output_guard(
    moderation: Moderation | None, ctx: MessageStreamContext, emit: Callable[[Event], None]
) -> OutputGuard | None:
    if moderation is None:
        return None
    return moderation.output_guard(lambda text: emit(ctx.message_replace(text, REPLACE_REASON)))
