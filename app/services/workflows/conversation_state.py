"""An advanced-chat conversation's variables: seeded from the workflow's declared defaults
on the first turn (and for variables added later), read into each run, and written the
moment an assigner node changes one (so a change survives a later failure)."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlmodel import col, select, update

from app.core.db import session_scope
from app.models import ConversationVariable
from app.models.base import utcnow


def declared_variables(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    found = workflow.get("conversation_variables") or []
    return [v for v in found if isinstance(v, dict) and v.get("name")]


def _variable_id(app_id: str, declared: dict[str, Any]) -> str:
    raw = declared.get("id")
    if raw:
        try:
            return str(uuid.UUID(str(raw)))
        except ValueError:
            pass  # Dify's fixtures have non-UUID ids: derive a stable one
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kiln:{app_id}:{declared['name']}"))


async def load_conversation_variables(
    app_id: str, conversation_id: str, declared: list[dict[str, Any]]
) -> dict[str, Any]:
    """Name → value for this turn; declared variables without a row get one."""
    async with session_scope() as session:
        statement = select(ConversationVariable).where(
            ConversationVariable.conversation_id == conversation_id
        )
        rows = {row.name: row for row in (await session.exec(statement)).all()}
        now = utcnow()
        values: dict[str, Any] = {}
        for index, spec in enumerate(declared):
            name = str(spec["name"])
            row = rows.get(name)
            if row is None:
                # a microsecond apart: listings keep the declared order
                row = ConversationVariable(
                    id=_variable_id(app_id, spec),
                    conversation_id=conversation_id,
                    app_id=app_id,
                    name=name,
                    value_type=str(spec.get("value_type") or "string"),
                    value=spec.get("value"),
                    description=str(spec.get("description") or ""),
                    created_at=now + timedelta(microseconds=index),
                )
                session.add(row)
            values[name] = row.value
    return values


def variable_saver(conversation_id: str) -> Callable[[str, Any], Awaitable[None]]:
    async def save(name: str, value: Any) -> None:
        async with session_scope() as session:
            await session.exec(
                update(ConversationVariable)
                .where(
                    col(ConversationVariable.conversation_id) == conversation_id,
                    col(ConversationVariable.name) == name,
                )
                .values(value=value, updated_at=utcnow())
            )

    return save
