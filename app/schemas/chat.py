"""Request bodies of the generation endpoints (named as Dify names them)."""

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _optional_uuid(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ValueError(f"{name} must be a valid UUID") from None


class _GeneratePayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    inputs: dict[str, Any]
    files: list[dict[str, Any]] | None = None
    response_mode: Literal["blocking", "streaming"] | None = None
    user: str | int | None = None
    retriever_from: str = "dev"

    @property
    def streaming(self) -> bool:
        return self.response_mode == "streaming"

    @property
    def user_id(self) -> str | None:
        return None if self.user is None else str(self.user)


class ChatRequestPayload(_GeneratePayload):
    query: str
    conversation_id: str | None = None
    auto_generate_name: bool = True
    workflow_id: str | None = None

    @field_validator("conversation_id")
    @classmethod
    def _conversation_uuid(cls, value: str | None) -> str | None:
        return _optional_uuid(value, "conversation_id")


class CompletionRequestPayload(_GeneratePayload):
    query: str = ""


class StopRequestPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user: str | int | None = Field(default=None)
