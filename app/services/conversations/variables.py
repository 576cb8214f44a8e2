"""A conversation's variables: Dify's paging and name filter, and typed updates."""

from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from app.core.db import read_scope, session_scope
from app.core.errors import BadRequest, NotFound
from app.models import ConversationVariable
from app.models.base import utcnow
from app.schemas.conversation_variable import ConversationVariableItem, ConversationVariablePage
from app.services.conversations.crud import end_user_id_or_404, get_owned

VARIABLE_NOT_EXISTS = "Conversation Variable Not Exists."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ELEMENT_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "object": lambda v: isinstance(v, dict),
    "boolean": lambda v: isinstance(v, bool),
    "file": lambda v: isinstance(v, dict),
}
_SCALAR_CHECKS = {**_ELEMENT_CHECKS, "secret": _ELEMENT_CHECKS["string"]}


def _expected(value_type: str) -> str:
    # Dify stores numbers declared in the UI as `integer`/`float` but checks them as numbers.
    return "number" if value_type in ("integer", "float") else value_type


def is_valid(value_type: str, value: Any) -> bool:
    expected = _expected(value_type)
    if expected == "none":
        return value is None
    if expected == "array[any]":
        return isinstance(value, list)
    if expected.startswith("array[") and expected.endswith("]"):
        check = _ELEMENT_CHECKS.get(expected[6:-1])
        if check is None:
            return True
        return isinstance(value, list) and all(check(item) for item in value)
    scalar = _SCALAR_CHECKS.get(expected)
    return True if scalar is None else scalar(value)


def infer_type(value: Any) -> str:
    """The segment type Dify infers from a JSON value (for the mismatch message)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if not value:
        return "array[any]"
    for name in ("string", "boolean", "number", "object"):
        if all(_ELEMENT_CHECKS[name](item) for item in value):
            return f"array[{name}]"
    return "array[any]"


async def list_page(
    app_id: str,
    user: str | None,
    conversation_id: str,
    last_id: str | None,
    limit: int,
    variable_name: str | None,
) -> ConversationVariablePage:
    end_user_id = await end_user_id_or_404(app_id, user)
    async with read_scope() as session:
        conversation = await get_owned(session, app_id, end_user_id, conversation_id)
        statement = select(ConversationVariable).where(
            ConversationVariable.conversation_id == conversation.id
        )
        if variable_name:
            # Dify matches case-insensitively as a substring (`_` and `.` taken literally).
            name = func.lower(col(ConversationVariable.name))
            statement = statement.where(name.contains(variable_name.lower(), autoescape=True))
        if last_id:
            by_id = statement.where(ConversationVariable.id == last_id)
            cursor = (await session.exec(by_id)).first()
            if cursor is None:
                raise NotFound(VARIABLE_NOT_EXISTS)
            created = col(ConversationVariable.created_at)
            statement = statement.where(
                or_(
                    created > cursor.created_at,
                    and_(created == cursor.created_at, col(ConversationVariable.id) > cursor.id),
                )
            )
        statement = statement.order_by(
            col(ConversationVariable.created_at).asc(), col(ConversationVariable.id).asc()
        ).limit(limit + 1)
        rows = list((await session.exec(statement)).all())
    return ConversationVariablePage(
        limit=limit,
        has_more=len(rows) > limit,
        data=[ConversationVariableItem.of(row) for row in rows[:limit]],
    )


async def update(
    app_id: str, user: str | None, conversation_id: str, variable_id: str, value: Any
) -> ConversationVariableItem:
    end_user_id = await end_user_id_or_404(app_id, user)
    async with session_scope() as session:
        conversation = await get_owned(session, app_id, end_user_id, conversation_id)
        variable = await session.get(ConversationVariable, (variable_id, conversation.id))
        if variable is None:
            raise NotFound(VARIABLE_NOT_EXISTS)
        if not is_valid(variable.value_type, value):
            raise BadRequest(
                f"Type mismatch: variable '{variable.name}' expects "
                f"{_expected(variable.value_type)}, but got {infer_type(value)} type"
            )
        variable.value = value
        variable.updated_at = utcnow()
        session.add(variable)
        return ConversationVariableItem.of(variable)
