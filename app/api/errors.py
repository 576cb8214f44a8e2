"""Dify's error body on every failure: handlers for Kiln's errors, FastAPI's validation
errors, Starlette's HTTP errors and anything unhandled."""

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import STOCK_MESSAGES, DifyError, error_body

logger = logging.getLogger("kiln.errors")

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
        return _respond(exc.code, exc.message, exc.status, exc.headers)

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
        stock = STOCK_MESSAGES.get(status)
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
