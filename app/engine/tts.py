"""Auto-play text to speech for a streaming answer (`tts_message` / `tts_message_end`).

As Dify's TTS publisher does it: the answer text is cut into sentences (ends: `。.!?`);
the first batch goes to the speech model after 2 sentences, each next batch after one more
sentence than the last (at most 7); the rest goes when the answer ends. Up to 3 batches are
synthesised at once, and their audio is emitted in order as base64 chunks, interleaved with
the message events (which never wait on audio). After the answer ends the stream waits for
the remaining audio, giving up when none arrives for `idle_timeout` seconds, then sends
`tts_message_end`. A speech failure is logged and ends the audio early, never the answer.
"""

import asyncio
import base64
import logging
import re
from collections.abc import Callable
from typing import Any

from app.engine.events import Event, MessageStreamContext
from app.gateway.gateway import ModelGateway

logger = logging.getLogger("kiln.tts")

SENTENCE_END = re.compile(r"[。.!?]")
FIRST_BATCH = 2
MAX_BATCH = 7
PARALLEL_CALLS = 3
_DONE = object()


def split_sentences(text: str) -> tuple[list[str], str]:
    """Whole sentences (each with its end mark) and the unfinished rest."""
    sentences: list[str] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()])
        start = match.end()
    return sentences, text[start:]


def auto_play_settings(features: dict[str, Any]) -> dict[str, Any] | None:
    """The app's `text_to_speech` block when it asks for auto-play, else None."""
    tts = features.get("text_to_speech")
    if isinstance(tts, dict) and tts.get("enabled") and tts.get("autoPlay") == "enabled":
        return tts
    return None


class TtsPublisher:
    def __init__(
        self,
        gateway: ModelGateway,
        ctx: MessageStreamContext,
        emit: Callable[[Event], None],
        voice: str | None,
        idle_timeout: float,
    ) -> None:
        self._gateway = gateway
        self._ctx = ctx
        self._emit = emit
        self._voice = voice
        self._idle_timeout = idle_timeout
        self._text = ""
        self._batch = FIRST_BATCH
        self._slots = asyncio.Semaphore(PARALLEL_CALLS)
        self._order: asyncio.Queue[asyncio.Queue[object] | None] = asyncio.Queue()
        self._fetches: set[asyncio.Task[None]] = set()
        self._progress = 0  # audio chunks emitted so far
        self._closed = False
        self._writer = asyncio.create_task(self._write_in_order(), name=f"tts-{ctx.task_id}")

    # -- the answer side (synchronous: message events never wait) -------------------------
    def watching(self, emit: Callable[[Event], None]) -> Callable[[Event], None]:
        """`emit`, then hand the event to `observe`."""

        def emit_and_observe(event: Event) -> None:
            emit(event)
            self.observe(event)

        return emit_and_observe

    def observe(self, event: Event) -> None:
        """Take the answer deltas out of the generation's events."""
        if event.get("event") in ("message", "agent_message"):
            self.feed(str(event.get("answer") or ""))

    def feed(self, delta: str) -> None:
        if self._closed or not delta:
            return
        self._text += delta
        sentences, rest = split_sentences(self._text)
        if len(sentences) >= min(self._batch, MAX_BATCH):
            self._batch += 1
            self._submit("".join(sentences))
            self._text = rest

    def _submit(self, text: str) -> None:
        if not text.strip():
            return
        out: asyncio.Queue[object] = asyncio.Queue()
        task = asyncio.create_task(self._fetch(text.strip(), out))
        self._fetches.add(task)
        task.add_done_callback(self._fetches.discard)
        self._order.put_nowait(out)

    async def _fetch(self, text: str, out: asyncio.Queue[object]) -> None:
        try:
            async with self._slots:
                audio = self._gateway.speech(text, self._voice)
                async for chunk in audio.chunks:
                    out.put_nowait(chunk)
        except Exception as exc:  # logged by the writer; the answer goes on
            out.put_nowait(exc)
        finally:
            out.put_nowait(_DONE)

    # -- the audio side --------------------------------------------------------------------
    async def _write_in_order(self) -> None:
        while True:
            out = await self._order.get()
            if out is None:
                return
            while True:
                item = await out.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    logger.warning("tts for task %s failed: %s", self._ctx.task_id, item)
                    return
                assert isinstance(item, bytes)
                self._emit(self._audio_event("tts_message", base64.b64encode(item).decode()))
                self._progress += 1

    def _audio_event(self, kind: str, audio: str) -> Event:
        event = self._ctx.base(kind)
        event["audio"] = audio
        return event

    async def finish(self, *, speak_rest: bool = True) -> None:
        """The answer is over: speak what is left (unless it failed), wait for the audio
        while it keeps coming, then send `tts_message_end`."""
        if self._closed:
            return
        self._closed = True
        if speak_rest:
            self._submit(self._text)
        self._text = ""
        self._order.put_nowait(None)
        try:
            if speak_rest:
                await self._wait_while_progressing()
        finally:
            self.abort()
        self._emit(self._audio_event("tts_message_end", ""))

    async def _wait_while_progressing(self) -> None:
        while not self._writer.done():
            before = self._progress
            await asyncio.wait({self._writer}, timeout=self._idle_timeout)
            if self._progress == before and not self._writer.done():
                logger.warning("tts for task %s timed out", self._ctx.task_id)
                return

    def abort(self) -> None:
        """Drop pending audio (shutdown, failure): cancels the speech calls."""
        self._closed = True
        self._writer.cancel()
        for task in list(self._fetches):
            task.cancel()


def start_tts(
    gateway: ModelGateway,
    features: dict[str, Any],
    ctx: MessageStreamContext,
    emit: Callable[[Event], None],
    idle_timeout: float,
) -> TtsPublisher | None:
    """A publisher when the app asks for auto-play, else None."""
    settings = auto_play_settings(features)
    if settings is None:
        return None
    voice = settings.get("voice")
    return TtsPublisher(gateway, ctx, emit, str(voice) if voice else None, idle_timeout)
