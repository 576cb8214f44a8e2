"""Turn a started generation into Dify's blocking JSON or SSE response."""

from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.responses import Response

from app.core.config import Settings


class Listener(Protocol):
    """A started run as its response sees it (chat, completion, workflow)."""

    def sse(self) -> AsyncIterator[bytes]: ...

    async def blocking_response(self) -> dict[str, Any]: ...


def _ping() -> ServerSentEvent:
    # Dify pings with a bare `event: ping` frame, not an SSE comment.
    return ServerSentEvent(event="ping", sep="\n")


async def respond(generation: Listener, streaming: bool, settings: Settings) -> Response:
    if not streaming:
        body: dict[str, Any] = await generation.blocking_response()
        return Response(orjson.dumps(body), media_type="application/json")
    return sse_response(generation.sse(), settings)


def sse_response(frames: AsyncIterator[bytes], settings: Settings) -> Response:
    return EventSourceResponse(
        frames,
        sep="\n",
        ping=settings.ping_interval,
        ping_message_factory=_ping,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        # No shutdown grace here: sse-starlette's own drain is off (app/server.py); at
        # shutdown the runtime stops each generation, whose stream then ends by itself
        # with `message_end` (app/runtime.py ShutdownPlan).
    )
