"""Stream a fixed answer the way Dify streams direct answers (annotation replies,
moderation presets): one character per message event, ~10 ms apart."""

import asyncio
import contextlib

from app.engine.events import MessageStreamContext
from app.engine.run_context import RunContext

CHAR_DELAY = 0.01  # seconds between characters (Dify's direct output)


async def stream_direct_answer(
    text: str,
    ctx: MessageStreamContext,
    run: RunContext,
    delay: float = CHAR_DELAY,
) -> bool:
    """Emit `text` char by char; True when a stop request cut it short."""
    stop = run.stop
    for index, char in enumerate(text):
        if stop.is_set():
            return True
        if index and delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            if stop.is_set():
                return True
        run.emit(ctx.direct_message(char))
    return False
