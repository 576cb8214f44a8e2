"""The request body as it arrives: a size limit answered with Dify's 413 before the body is
read whole, and a client that leaves while sending it treated as gone, not as a fault.

Multipart bodies (uploads, audio) may be as large as the largest upload limit plus room for
the form's other parts; the upload readers apply their own per-class limits inside that.
Every other body is held to `KILN_REQUEST_BODY_SIZE_LIMIT`, but webhook calls
(`/triggers/…`, multipart included) to `KILN_WEBHOOK_REQUEST_BODY_MAX_SIZE`, as Dify holds
them to its WEBHOOK_REQUEST_BODY_MAX_SIZE."""

import logging

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import Settings, get_settings
from app.core.errors import error_body
from app.services.audio.upload import FILE_SIZE_LIMIT as AUDIO_SIZE_LIMIT
from app.services.files.file_classes import MB, largest_upload_limit

logger = logging.getLogger("kiln")

TOO_LARGE_CODE = "request_entity_too_large"
TOO_LARGE = "The data value transmitted exceeds the capacity limit."  # Werkzeug's 413
# A form's parts besides the file: up to 32 parts of at most 64 KiB (see
# app/services/files/multipart.py), their headers and the boundaries.
MULTIPART_HEADROOM = 4 * MB
TRIGGERS_PREFIX = "/triggers/"


class BodyTooLarge(Exception):
    """Raised from `receive` the moment a streamed body passes its limit."""


def body_limit(scope: Scope, settings: Settings) -> int:
    if scope["path"].startswith(TRIGGERS_PREFIX):
        return settings.webhook_request_body_max_size
    for name, value in scope["headers"]:
        if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
            return max(largest_upload_limit(settings), AUDIO_SIZE_LIMIT) + MULTIPART_HEADROOM
    return settings.request_body_size_limit * MB


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before it gets here
    return None


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    # The rest of the body is not read: the connection closes after the answer.
    response = JSONResponse(
        error_body(TOO_LARGE_CODE, TOO_LARGE, 413), 413, headers={"Connection": "close"}
    )
    await response(scope, receive, send)


class BodyGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope, get_settings())
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        # `send` is passed through untouched: it carries every streamed event. Kiln reads a
        # body before it answers, so the 413 below is always the response's start.
        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _too_large(scope, receive, send)
        except ClientDisconnect:
            # No one is left to answer; nothing of Kiln's went wrong.
            logger.debug(
                "client left while sending the request body: %s %s", scope["method"], scope["path"]
            )
