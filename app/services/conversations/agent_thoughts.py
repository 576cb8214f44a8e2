"""`agent_thoughts` of messages as `GET /v1/messages` returns them (Dify's agent thought
fields), loaded for a whole page in one query."""

from typing import Any

from sqlmodel import col, select

from app.core.db import read_scope
from app.models import MessageAgentThought
from app.models.base import timestamp


def _item(row: MessageAgentThought) -> dict[str, Any]:
    return {
        "id": row.id,
        "chain_id": row.message_chain_id,
        "message_id": row.message_id,
        "position": row.position,
        "thought": row.thought,
        "tool": row.tool,
        "tool_labels": row.tool_labels,
        "tool_input": row.tool_input,
        "created_at": timestamp(row.created_at),
        "observation": row.observation,
        "files": row.message_files,
    }


async def thoughts_for(message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not message_ids:
        return {}
    statement = (
        select(MessageAgentThought)
        .where(col(MessageAgentThought.message_id).in_(message_ids))
        .order_by(col(MessageAgentThought.message_id), col(MessageAgentThought.position))
    )
    async with read_scope() as session:
        rows = (await session.exec(statement)).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.message_id, []).append(_item(row))
    return found
