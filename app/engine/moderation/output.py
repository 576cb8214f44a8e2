"""Output moderation while an answer streams, as Dify's OutputModeration does it: the
answer is buffered, checked in the background each time `buffer_size` more characters have
arrived, and once more in full at the end. A `direct_output` verdict mid-stream replaces
the answer with the preset (`message_replace`) and tells the runner to stop relaying;
`overridden` replaces what was checked and lets the stream go on."""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from app.engine.moderation.base import ModerationAction, Moderator, OutputsResult

logger = logging.getLogger("kiln.moderation")


class OutputGuard:
    def __init__(
        self, moderator: Moderator, buffer_size: int, on_replace: Callable[[str], None]
    ) -> None:
        self._moderator = moderator
        self._size = max(buffer_size, 1)
        self._on_replace = on_replace
        self._buffer = ""
        self._checked = 0
        self._grew = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.final_output: str | None = None  # set when a direct output took over
        self.blocked = asyncio.Event()

    def append(self, token: str) -> None:
        self._buffer += token
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="output-moderation")
        if len(self._buffer) - self._checked >= self._size:
            self._grew.set()

    async def _moderate(self, text: str) -> OutputsResult | None:
        try:
            return await self._moderator.moderate_output(text)
        except Exception:  # Dify logs and lets the answer through
            logger.warning("output moderation failed", exc_info=True)
            return None

    async def _run(self) -> None:
        while True:
            await self._grew.wait()
            self._grew.clear()
            snapshot = self._buffer
            self._checked = len(snapshot)
            result = await self._moderate(snapshot)
            if result is not None and result.flagged:
                if result.action == ModerationAction.DIRECT_OUTPUT:
                    self.final_output = result.preset_response
                    self._on_replace(self.final_output)
                    self.blocked.set()
                    return
                self._on_replace(result.text + self._buffer[len(snapshot) :])
            if len(self._buffer) - self._checked >= self._size:
                self._grew.set()

    def close(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()

    async def finish(self, answer: str) -> str | None:
        """The end-of-answer check: the replacement answer (already announced with
        `message_replace`), or None when the answer stands."""
        if self._worker is not None:
            self.close()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self.final_output is not None:
            return self.final_output
        result = await self._moderate(answer)
        if result is None or not result.flagged:
            return None
        if result.action == ModerationAction.DIRECT_OUTPUT:
            final = result.preset_response
        else:
            final = result.text
        self._on_replace(final)
        return final
