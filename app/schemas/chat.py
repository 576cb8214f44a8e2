"""Request bodies of the generation endpoints (named as Dify names them)."""

from datetime import datetime
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


class WorkflowRunPayload(_GeneratePayload):
    """`POST /v1/workflows/run` (Dify's WorkflowRunPayload: inputs required, files)."""


class WorkflowLogsQuery(BaseModel):
    """`GET /v1/workflows/logs` (Dify's filters; page 1–99999, limit 1–100)."""

    model_config = ConfigDict(extra="ignore")

    keyword: str | None = None
    status: Literal["succeeded", "failed", "stopped", "partial-succeeded"] | None = None
    created_at__before: datetime | None = None
    created_at__after: datetime | None = None
    created_by_end_user_session_id: str | None = None
    created_by_account: str | None = None
    page: int = Field(default=1, ge=1, le=99999)
    limit: int = Field(default=20, ge=1, le=100)
