"""Rows a generation writes: the conversation and message up front, the result at the end."""

from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select, update

from app.core.db import session_scope
from app.core.nul import without_nul
from app.engine.agent_thought import AgentThought
from app.engine.classic_runner import RunResult
from app.engine.prompt import Turn
from app.engine.template import neutralise
from app.models import Conversation, Message, MessageAgentThought
from app.models.base import utcnow

HISTORY_LIMIT = 500
# Service API messages carry the nil UUID as parent: the history is linear.
NIL_PARENT = "00000000-0000-0000-0000-000000000000"


async def load_history(conversation_id: str) -> list[Turn]:
    async with session_scope(read_only=True) as session:
        statement = (
            select(Message)
            .where(Message.conversation_id == conversation_id, col(Message.is_running).is_(False))
            .order_by(col(Message.created_at).desc())
            .limit(HISTORY_LIMIT)
        )
        rows = list((await session.exec(statement)).all())
    rows.reverse()
    return [Turn(r.query, r.answer, message_id=r.id) for r in rows if r.answer]


async def create_records(
    *,
    conversation: Conversation | None,
    new_conversation: Conversation | None,
    message: Message,
) -> None:
    async with session_scope() as session:
        if new_conversation is not None:
            session.add(new_conversation)
        elif conversation is not None:
            conversation.updated_at = utcnow()
            session.add(conversation)
        session.add(message)


def stored_answer(answer: str) -> str:
    """Dify saves an answer trimmed, with `{{var}}` placeholders turned into `{var}`."""
    return neutralise(answer.strip())


def _failure_values(error: str) -> dict[str, Any]:
    # Dify's error path writes only the status and the error: the answer stays empty and
    # no usage is recorded (partial text is kept only on an explicit stop). The answer
    # saved while it streamed is cleared to match.
    return {
        "status": "error",
        "error": without_nul(error),
        "answer": "",
        "is_running": False,
        "updated_at": utcnow(),
    }


async def finish_message(
    message_id: str, result: RunResult, metadata: dict[str, Any], error_text: str = ""
) -> None:
    """One write transaction, no reads: this runs at the end of every generation. A failed
    result is stored with `error_text` (the message its client was shown)."""
    usage = result.usage
    values: dict[str, Any] = {
        # Status and error too: a message a reaper wrongly closed (its worker's heartbeat
        # was lost, not the worker) ends as its generation ended.
        "status": "normal",
        "error": None,
        "answer": stored_answer(result.answer),
        "model_provider": result.provider,
        "model_id": result.model,
        "message_tokens": int(usage.get("prompt_tokens", 0)),
        "answer_tokens": int(usage.get("completion_tokens", 0)),
        "total_price": str(usage.get("total_price", "0")),
        "currency": str(usage.get("currency", "USD")),
        "provider_response_latency": float(usage.get("latency", 0.0)),
        "message_metadata": metadata,
        "is_running": False,
        "updated_at": utcnow(),
    }
    if result.error is not None:
        values = _failure_values(error_text or str(result.error))
    async with session_scope(background=True) as session:
        await session.exec(update(Message).where(col(Message.id) == message_id).values(**values))
        session.add_all(_thought_row(message_id, step) for step in result.thoughts)
        if result.error is None:
            conversation_id = (
                select(Message.conversation_id).where(col(Message.id) == message_id)
            ).scalar_subquery()
            await session.exec(
                update(Conversation)
                .where(col(Conversation.id) == conversation_id)
                .values(dialogue_count=col(Conversation.dialogue_count) + 1)
            )


def _thought_row(message_id: str, step: AgentThought) -> MessageAgentThought:
    return MessageAgentThought(
        id=step.id,
        message_id=message_id,
        position=step.position,
        thought=step.thought,
        tool=step.tool,
        tool_labels=step.tool_labels,
        tool_input=step.tool_input,
        observation=step.observation,
        message_files=step.message_files,
        tokens=step.tokens,
    )


async def fail_message(message_id: str, error: str, partial_answer: str | None = None) -> None:
    """A failed message, unless it was already closed (its result stored just before the
    failure, or reaped); `partial_answer` keeps what its client was shown of an answer the
    server cut short (shutdown), as the reaper keeps it for a dead process's messages."""
    values = _failure_values(error)
    if partial_answer is not None:
        values["answer"] = stored_answer(partial_answer)
    async with session_scope(background=True) as session:
        await session.exec(
            update(Message)
            .where(col(Message.id) == message_id, col(Message.is_running).is_(True))
            .values(**values)
        )


_SAVE_RUNNING = (
    update(Message)
    .where(col(Message.id) == bindparam("message_id"), col(Message.is_running).is_(True))
    .values(answer=bindparam("text"), updated_at=bindparam("at"))
)


async def save_running_answers(answers: dict[str, str]) -> None:
    """The answers of running generations so far, in one transaction (one batched
    statement); a message that has finished meanwhile keeps its final answer."""
    if not answers:
        return
    now = utcnow()
    rows = [
        {"message_id": message_id, "text": stored_answer(text), "at": now}
        for message_id, text in answers.items()
    ]
    async with session_scope(background=True) as session:
        connection = await session.connection()
        await connection.execute(_SAVE_RUNNING, rows)
