"""Feedback request and response shapes (Dify's `MessageFeedback.to_dict`: ISO datetimes)."""

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.models import MessageFeedback


def iso_naive(dt: datetime) -> str:
    """A naive-UTC ISO string to the second, as Dify's `datetime.isoformat()` prints."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.replace(microsecond=0).isoformat()


class MessageFeedbackPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rating: Literal["like", "dislike"] | None = None
    content: str | None = None
    user: str | int | None = None


class FeedbackItem(BaseModel):
    id: str
    app_id: str
    conversation_id: str
    message_id: str
    rating: str
    content: str | None
    from_source: str
    from_end_user_id: str | None
    from_account_id: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: MessageFeedback) -> "FeedbackItem":
        return cls(
            id=row.id,
            app_id=row.app_id,
            conversation_id=row.conversation_id,
            message_id=row.message_id,
            rating=row.rating,
            content=row.content,
            from_source=row.from_source,
            from_end_user_id=row.from_end_user_id,
            from_account_id=row.from_account_id,
            created_at=iso_naive(row.created_at),
            updated_at=iso_naive(row.updated_at),
        )


class FeedbackList(BaseModel):
    data: list[FeedbackItem]
