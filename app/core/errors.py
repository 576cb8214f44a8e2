"""Dify's error body `{code, message, status}` and the exceptions that produce it."""

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("kiln.errors")

_STOCK_MESSAGES = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    401: "The server could not verify that you are authorized to access the URL requested.",
    403: "You don't have the permission to access the requested resource. It is either "
    "read-protected or not readable by the server.",
    404: "The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again.",
    405: "The method is not allowed for the requested URL.",
    415: "The server does not support the media type transmitted in the request.",
}
_STOCK_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_entity_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_server_error",
}


class DifyError(Exception):
    """An API error with Dify's code, default message and HTTP status."""

    code = "unknown"
    status = 500
    default_message = "Internal Server Error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)


def _error(code: str, status: int, default: str) -> type[DifyError]:
    name = "".join(part.capitalize() for part in code.split("_")) + "Error"
    return type(name, (DifyError,), {"code": code, "status": status, "default_message": default})


InvalidParam = _error("invalid_param", 400, "Invalid parameter.")
BadRequest = _error("bad_request", 400, _STOCK_MESSAGES[400])
Unauthorized = _error("unauthorized", 401, _STOCK_MESSAGES[401])
Forbidden = _error("forbidden", 403, _STOCK_MESSAGES[403])
NotFound = _error("not_found", 404, _STOCK_MESSAGES[404])
AppUnavailable = _error(
    "app_unavailable", 400, "App unavailable, please check your app configurations."
)
NotChatApp = _error(
    "not_chat_app", 400, "Please check if your app mode matches the right API route."
)
NotCompletionApp = _error(
    "not_completion_app",
    400,
    "Please check if your Completion app mode matches the right API route.",
)
NotWorkflowApp = _error(
    "not_workflow_app", 400, "Please check if your app mode matches the right API route."
)
ConversationCompleted = _error(
    "conversation_completed", 400, "The conversation has ended. Please start a new conversation."
)
ProviderNotInitialize = _error(
    "provider_not_initialize",
    400,
    "No valid model provider credentials found. Please go to Settings -> Model Provider to "
    "complete your provider credentials.",
)
ProviderQuotaExceeded = _error(
    "provider_quota_exceeded",
    400,
    "Your quota for Dify Hosted OpenAI has been exhausted. Please go to Settings -> Model "
    "Provider to complete your own provider credentials.",
)
ModelCurrentlyNotSupport = _error(
    "model_currently_not_support",
    400,
    "Dify Hosted OpenAI trial currently not support the GPT-4 model.",
)
CompletionRequestError = _error("completion_request_error", 400, "Completion request failed.")
RateLimitError = _error("rate_limit_error", 429, "Rate Limit Error")
TooManyRequests = _error("too_many_requests", 429, "Too many requests. Please try again later.")


def error_body(code: str, message: str, status: int) -> dict[str, object]:
    return {"code": code, "message": message, "status": status}


def _respond(
    code: str, message: str, status: int, headers: Mapping[str, str] | None = None
) -> Response:
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = 'Bearer realm="api"'
    return JSONResponse(error_body(code, message, status), status_code=status, headers=extra)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _validation_message(exc: RequestValidationError) -> str:
    """Pydantic-style multi-line text, as Dify returns it."""
    errors = exc.errors()
    lines = [f"{len(errors)} validation error{'s' if len(errors) != 1 else ''} for request"]
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        if err.get("type") == "json_invalid":
            return "Invalid JSON payload received or JSON payload is empty."
        lines.append(loc or "body")
        lines.append(f"  {err.get('msg')} [type={err.get('type')}]")
    return "\n".join(lines)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DifyError)
    async def _dify(_: Request, exc: DifyError) -> Response:
        return _respond(exc.code, exc.message, exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        code = "bad_request" if message.startswith("Invalid JSON") else "invalid_param"
        return _respond(code, message, 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        code = _STOCK_CODES.get(status, _snake(type(exc).__name__))
        detail = exc.detail if isinstance(exc.detail, str) else None
        stock = _STOCK_MESSAGES.get(status)
        # Starlette's bare reason phrase becomes Werkzeug's stock sentence, as Dify answers.
        is_phrase = not detail or detail == HTTPStatus(status).phrase
        message = stock if stock and is_phrase else detail
        return _respond(code, message or "", status, exc.headers)  # e.g. a 405's Allow

    @app.exception_handler(ValueError)
    async def _value(_: Request, exc: ValueError) -> Response:
        return _respond("invalid_param", str(exc), 400)

    @app.exception_handler(Exception)
    async def _unknown(_: Request, exc: Exception) -> Response:
        logger.exception("unhandled error", exc_info=exc)
        return _respond("unknown", "Internal Server Error", 500)
