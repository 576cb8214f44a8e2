"""The advanced-chat message of a run: its answer, usage and status once the run ends."""

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select, update

from app.core.db import session_scope
from app.core.nul import without_nul
from app.models import Conversation, Message, MessageFile
from app.models.base import utcnow
from app.services.generation.records import stored_answer


def _answer_file(message_id: str, end_user_id: str, file: dict[str, Any]) -> MessageFile:
    """A file of the answer as Dify's chatflow stores it (`belongs_to: assistant`)."""
    method = str(file.get("transfer_method") or "remote_url")
    stored = method in ("local_file", "tool_file") and file.get("related_id")
    return MessageFile(
        message_id=message_id,
        type=str(file.get("type") or "custom"),
        transfer_method=method,
        url=None if stored else file.get("remote_url") or file.get("url"),
        belongs_to="assistant",
        upload_file_id=str(file["related_id"]) if stored else None,
        created_by=end_user_id,
    )


async def finish_chat_message(
    message_id: str,
    answer: str,
    metadata: dict[str, Any] | None,
    error: str | None,
    files: tuple[list[dict[str, Any]], str] | None = None,
) -> None:
    """`metadata` None with an `error`: the run failed (status error, empty answer, as
    Dify stores a failed message). `files`: the answer's files and the end user they are
    stored for, listed with the message by `GET /v1/messages`."""
    values: dict[str, Any] = {"is_running": False, "updated_at": utcnow()}
    if error is not None:
        values.update(status="error", error=without_nul(error))
    else:
        usage = (metadata or {}).get("usage") or {}
        values.update(
            answer=stored_answer(without_nul(answer)),
            message_tokens=int(usage.get("prompt_tokens", 0)),
            answer_tokens=int(usage.get("completion_tokens", 0)),
            total_price=str(usage.get("total_price", "0")),
            currency=str(usage.get("currency", "USD")),
            provider_response_latency=float(usage.get("latency", 0.0)),
            message_metadata=metadata or {},
        )
    async with session_scope(background=True) as session:
        await session.exec(update(Message).where(col(Message.id) == message_id).values(**values))
        if error is None and files is not None:
            found, end_user_id = files
            session.add_all([_answer_file(message_id, end_user_id, f) for f in found])
        if error is None:
            conversation_id = (
                select(Message.conversation_id).where(col(Message.id) == message_id)
            ).scalar_subquery()
            await session.exec(
                update(Conversation)
                .where(col(Conversation.id) == conversation_id)
                .values(dialogue_count=col(Conversation.dialogue_count) + 1)
            )


async def earlier_turns(conversation_id: str) -> int:
    """How many messages the conversation has so far, whatever their answer or status:
    `sys.dialogue_count` is this plus one, as Dify's `get_thread_messages_length` counts
    (a turn that answered nothing or failed still moved the dialogue on)."""
    async with session_scope(read_only=True) as session:
        statement = (
            select(func.count())
            .select_from(Message)
            .where(col(Message.conversation_id) == conversation_id)
        )
        return int((await session.exec(statement)).one())
