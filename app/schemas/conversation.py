"""Response shapes for conversations and messages, as Dify serialises them."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models import Conversation, Message
from app.models.base import timestamp
from app.schemas.common import optional_uuid


class ConversationListQuery(BaseModel):
    """`GET /conversations` query, named as Dify names it: its errors read
    "1 validation error for ConversationListQuery ..."."""

    last_id: str | None = None
    limit: int = Field(default=20, ge=1, le=100)
    sort_by: Literal["created_at", "-created_at", "updated_at", "-updated_at"] = "-updated_at"

    @field_validator("last_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        return optional_uuid(value, "last_id")


class ConversationItem(BaseModel):
    id: str
    name: str
    inputs: dict[str, Any]
    status: str
    introduction: str
    created_at: int | None
    updated_at: int | None

    @classmethod
    def of(cls, row: Conversation) -> "ConversationItem":
        return cls(
            id=row.id,
            name=row.name,
            inputs=row.inputs,
            status=row.status,
            introduction=row.introduction,
            created_at=timestamp(row.created_at),
            updated_at=timestamp(row.updated_at),
        )


class ConversationPage(BaseModel):
    limit: int
    has_more: bool
    data: list[ConversationItem]


RUNNING = "running"


class MessageItem(BaseModel):
    id: str
    conversation_id: str
    parent_message_id: str | None
    inputs: dict[str, Any]
    query: str
    answer: str
    status: str
    error: str | None
    message_files: list[dict[str, Any]]
    feedback: dict[str, Any] | None
    retriever_resources: list[dict[str, Any]]
    agent_thoughts: list[dict[str, Any]]
    created_at: int | None
    extra_contents: list[dict[str, Any]]
    message_tokens: int
    answer_tokens: int
    total_tokens: int
    provider_response_latency: float
    total_price: str
    currency: str

    @classmethod
    def of(cls, row: Message, feedback: dict[str, Any] | None = None) -> "MessageItem":
        return cls(
            id=row.id,
            conversation_id=row.conversation_id,
            parent_message_id=row.parent_message_id,
            inputs=row.inputs,
            query=row.query,
            answer=row.answer,
            # Dify has no state for a message being generated (it reads `normal` with an
            # empty answer, like a finished empty one): Kiln says `running`, with the
            # answer saved so far (README, "Where Kiln differs from Dify").
            status=RUNNING if row.is_running else row.status,
            error=row.error,
            message_files=[],
            feedback=feedback,
            retriever_resources=row.message_metadata.get("retriever_resources", []),
            agent_thoughts=[],
            created_at=timestamp(row.created_at),
            extra_contents=[],
            message_tokens=row.message_tokens,
            answer_tokens=row.answer_tokens,
            total_tokens=row.message_tokens + row.answer_tokens,
            provider_response_latency=row.provider_response_latency,
            total_price=row.total_price,
            currency=row.currency,
        )


class MessagePage(BaseModel):
    limit: int
    has_more: bool
    data: list[MessageItem]


class RenamePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, max_length=255)
    auto_generate: bool = False
    user: str | int | None = None
