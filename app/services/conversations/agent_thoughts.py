"""`agent_thoughts` of messages as `GET /v1/messages` returns them (Dify's agent thought
fields), loaded for a whole page in one query."""

from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select

from app.core.db import read_scope
from app.engine.agents.history import ThoughtRecord
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


async def _rows(message_ids: list[str]) -> Sequence[MessageAgentThought]:
    """The thoughts of these messages, each message's in position order."""
    if not message_ids:
        return []
    statement = (
        select(MessageAgentThought)
        .where(col(MessageAgentThought.message_id).in_(message_ids))
        .order_by(col(MessageAgentThought.message_id), col(MessageAgentThought.position))
    )
    async with read_scope() as session:
        return (await session.exec(statement)).all()


async def thoughts_for(message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rows = await _rows(message_ids)
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.message_id, []).append(_item(row))
    return found


async def thought_records(message_ids: list[str]) -> dict[str, list[ThoughtRecord]]:
    """Earlier answers' thoughts as an agent's history needs them (app/engine/agents/history)."""
    rows = await _rows(message_ids)
    found: dict[str, list[ThoughtRecord]] = {}
    for row in rows:
        record = ThoughtRecord(row.thought, row.tool, row.tool_input, row.observation)
        found.setdefault(row.message_id, []).append(record)
    return found
