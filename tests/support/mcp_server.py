"""A local MCP server for the MCP tool tests: the official SDK's FastMCP, served over
streamable HTTP (`/mcp`) and SSE (`/sse`) by uvicorn on 127.0.0.1 in a thread of its own.

Every request must carry `X-Api-Key: <API_KEY>` (401 otherwise), so the tests prove the
operator's headers reach the server. Its tools answer text, JSON text, a JSON list, an
image, audio, embedded resources, structured content with an output schema, the header it
was sent, the arguments it received, an error, and a slow answer."""

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

import uvicorn
from mcp.server.fastmcp import Context, FastMCP, Image
from mcp.types import (
    AudioContent,
    BlobResourceContents,
    EmbeddedResource,
    TextContent,
    TextResourceContents,
)
from pydantic import AnyUrl
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import free_port
from tests.support.files import PNG

API_KEY = "mcp-secret"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "


class Forecast(TypedDict):
    city: str
    high: int
    sky: str


def build() -> FastMCP:
    server = FastMCP("kiln-test", host="127.0.0.1")

    @server.tool(description="Say a text back", structured_output=False)
    def echo(text: str, times: int = 1) -> str:
        return " ".join([text] * times)

    @server.tool(structured_output=False)
    def json_text() -> str:
        return json.dumps({"answer": 42, "nested": {"ok": True}})

    @server.tool(structured_output=False)
    def json_list() -> str:
        return '[{"id": 1}, {"id": 2}]'

    @server.tool(structured_output=False)
    def image() -> Image:
        return Image(data=PNG, format="png")

    @server.tool(structured_output=False)
    def audio() -> list[Any]:
        data = base64.b64encode(WAV).decode()
        return [AudioContent(type="audio", data=data, mimeType="audio/wav")]

    @server.tool(structured_output=False)
    def resources() -> list[Any]:
        blob = base64.b64encode(b"%PDF-1.4").decode()
        return [
            TextContent(type="text", text="before "),
            EmbeddedResource(
                type="resource",
                resource=TextResourceContents(uri=AnyUrl("file:///a.txt"), text="embedded text"),
            ),
            EmbeddedResource(
                type="resource",
                resource=BlobResourceContents(
                    uri=AnyUrl("file:///a.pdf"), mimeType="application/pdf", blob=blob
                ),
            ),
        ]

    @server.tool(description="The weather tomorrow")
    def forecast(city: str) -> Forecast:
        return {"city": city, "high": 21, "sky": "clear"}

    @server.tool(structured_output=False)
    def whoami(ctx: Context) -> str:  # type: ignore[type-arg]
        request = ctx.request_context.request
        return request.headers.get("x-api-key", "") if request is not None else ""

    @server.tool(structured_output=False)
    def received(a: str = "absent", b: str = "absent", n: int = -1) -> str:
        return json.dumps({"a": a, "b": b, "n": n})

    @server.tool()
    def fails() -> str:
        raise ValueError("the tool broke")

    @server.tool(structured_output=False)
    async def slow() -> str:
        await asyncio.sleep(3)
        return "late"

    return server


class _RequireKey:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"x-api-key") != API_KEY.encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await self.app(scope, receive, send)


@contextmanager
def _serve(app: ASGIApp) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(
        _RequireKey(app), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the local MCP server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def mcp_servers() -> Iterator[tuple[str, str]]:
    """Run the server over both transports; yields (streamable HTTP URL, SSE URL)."""
    streamable = build()
    with _serve(streamable.streamable_http_app()) as http_port:
        with _serve(build().sse_app()) as sse_port:
            yield f"http://127.0.0.1:{http_port}/mcp", f"http://127.0.0.1:{sse_port}/sse"
