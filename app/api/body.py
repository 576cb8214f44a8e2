"""Read a JSON body the way Dify's controllers do: 415 for a non-JSON type, 400 for
malformed JSON, 400 `invalid_param` with pydantic's text for a bad shape (never 422)."""

from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.core.errors import BadRequest, DifyError, InvalidParam
from app.core.nul import check_no_nul

Model = TypeVar("Model", bound=BaseModel)


# Fields whose NUL characters are no problem: Dify strips them from `inputs` and `query`
# (the engine does here too), and a conversation variable's `value` is stored as JSON,
# where a NUL is escaped.
NUL_ALLOWED_FIELDS = frozenset({"inputs", "query", "value"})


class UnsupportedMediaType(DifyError):
    code = "unsupported_media_type"
    status = 415
    default_message = (
        "Did not attempt to load JSON data because the request Content-Type was not "
        "'application/json'."
    )


async def read_json(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type.split(";")[0].lower():
        raise UnsupportedMediaType()
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        data = None
    if data is None:
        raise BadRequest("Invalid JSON payload received or JSON payload is empty.")
    if not isinstance(data, dict):
        raise InvalidParam("Invalid JSON payload: expected an object.")
    return data


def parse_model(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate as Dify's request parsers do; then refuse NUL in the fields kept (ignored
    ones never reach the database), after the checks Dify makes first."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidParam(str(exc)) from None
    check_no_nul(parsed.model_dump(exclude=set(NUL_ALLOWED_FIELDS)))
    return parsed


def required_user(data: dict[str, Any]) -> str:
    """Dify reads `user` before anything else and requires it on generation and stop."""
    user = data.get("user")
    if not user:  # Dify: `if not user_id` (so 0 and false are missing too)
        raise InvalidParam("Arg user must be provided.")
    return str(user)
