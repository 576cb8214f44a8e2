"""ASGI middleware that makes Kiln's HTTP surface behave like Dify's Flask one where
clients can tell: HEAD is served by every GET route, and the Service API answers CORS."""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVICE_API_PREFIX = "/v1"


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

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class ServiceApiCors:
    """Dify's `CORS(service_api_bp, ...)`: any origin, no credentials, its headers and
    methods; other paths (the Web API later) get their own policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"],
            allow_headers=["Content-Type", "Authorization", "X-App-Code"],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(SERVICE_API_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
