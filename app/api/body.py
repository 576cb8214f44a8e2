"""Read a JSON body the way Dify's controllers do: 415 for a non-JSON type, 400 for
malformed JSON, 400 `invalid_param` with pydantic's text for a bad shape (never 422)."""

from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.core.errors import BadRequest, DifyError, InvalidParam
from app.core.json_depth import check_depth
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
    """Validate as Dify's request parsers do; then refuse JSON nested too deep and NUL in
    the fields kept (ignored ones are never used), after the checks Dify makes first."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise InvalidParam(str(exc)) from None
    kept = parsed.model_dump()
    check_depth(kept)
    check_no_nul({name: value for name, value in kept.items() if name not in NUL_ALLOWED_FIELDS})
    return parsed


def user_text(user: Any) -> str:
    """The body's `user` as Dify keeps it, `str(user)` of whatever JSON value it is (its
    nesting checked first, so the conversion cannot recurse without bound)."""
    if isinstance(user, str):
        return user
    check_depth(user, levels_above=1)
    return str(user)


def required_user(data: dict[str, Any]) -> str:
    """Dify reads `user` before anything else and requires it on generation and stop."""
    user = data.get("user")
    if not user:  # Dify: `if not user_id` (so 0 and false are missing too)
        raise InvalidParam("Arg user must be provided.")
    return user_text(user)


def optional_user(data: dict[str, Any]) -> str | None:
    """`user` where it may be left out (absent or empty: Dify's default end user)."""
    user = data.get("user")
    return None if user is None or user == "" else user_text(user)
