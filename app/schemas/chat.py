"""Request bodies of the generation endpoints (named as Dify names them)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import optional_uuid


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
        return optional_uuid(value, "conversation_id")


class CompletionRequestPayload(_GeneratePayload):
    query: str = ""


class StopRequestPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user: str | int | None = Field(default=None)
