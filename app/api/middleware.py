"""ASGI middleware that makes Kiln's HTTP surface behave like Dify's Flask one where
clients can tell: HEAD is served by every GET route, and the Service API and file routes
answer CORS (errors included)."""

import logging

from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_body

logger = logging.getLogger("kiln")

# Set in the scope of a HEAD served as GET, so a route can skip producing a body.
HEAD_REQUEST = "kiln.head_request"


def is_head(scope: Scope) -> bool:
    return bool(scope.get(HEAD_REQUEST))


class HeadAsGet:
    """Werkzeug adds HEAD to every GET rule: run the GET, send its headers, drop its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_REQUEST: True}, receive, headers_only)


class DifyCors:
    """Dify's per-blueprint CORS: the Service API (`/v1`: Authorization, Content-Type,
    X-App-Code) and the files blueprint (`/files`: Content-Type) for any origin, no
    credentials; other paths (the Web API later) get their own policy. Unhandled errors
    become the JSON 500 inside it, so a browser sees them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        inner = UnhandledAsJson(app)
        self.policies = [
            ("/v1", _cors(inner, ["Content-Type", "Authorization", "X-App-Code"])),
            ("/files/", _cors(inner, ["Content-Type"])),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for prefix, policy in self.policies:
                if scope["path"].startswith(prefix):
                    await policy(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _cors(app: ASGIApp, headers: list[str]) -> ASGIApp:
    return CORSMiddleware(
        app,
        allow_origins=["*"],
        allow_methods=["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"],
        allow_headers=headers,
    )


class UnhandledAsJson:
    """An exception no handler took becomes Dify's JSON 500 here, inside CORS (Starlette
    would answer it outside every middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if started:
                raise
            logger.exception("unhandled error")
            response = JSONResponse(error_body("unknown", "Internal Server Error", 500), 500)
            await response(scope, receive, send)
