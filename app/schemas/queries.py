"""Query strings validated as Dify validates them (pydantic models of the same names, so a
bad value reads "1 validation error for <Model> ...")."""

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.schemas.common import optional_uuid


class FeedbackListQuery(BaseModel):
    page: int = Field(default=1, ge=1)
    limit: int = Field(default=20, ge=1, le=101)


class FilePreviewQuery(BaseModel):
    as_attachment: bool = False


class MessageListQuery(BaseModel):
    conversation_id: str | None = Field(...)  # required; blank reads as absent
    first_id: str | None = None
    limit: int = Field(default=20, ge=1, le=100)

    @field_validator("conversation_id", "first_id")
    @classmethod
    def _uuid(cls, value: str | None, info: ValidationInfo) -> str | None:
        return optional_uuid(value, info.field_name or "id")
