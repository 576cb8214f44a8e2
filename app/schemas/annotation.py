"""Annotation request and response shapes (Dify's `annotation_fields`: Unix seconds)."""

import math

from pydantic import BaseModel, ConfigDict, field_validator

from app.models import MessageAnnotation
from app.models.base import timestamp


class AnnotationPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str
    answer: str


class ReplySettingsPayload(BaseModel):
    """Dify requires all three fields, even to disable."""

    model_config = ConfigDict(extra="ignore")

    score_threshold: float
    embedding_provider_name: str
    embedding_model_name: str

    @field_validator("score_threshold")
    @classmethod
    def _in_range(cls, value: float) -> float:
        # The Service API's OpenAPI contract: minimum 0, maximum 1.
        if not math.isfinite(value) or not 0 <= value <= 1:
            raise ValueError("score_threshold must be a number between 0 and 1")
        return value


class AnnotationItem(BaseModel):
    id: str
    question: str
    answer: str
    hit_count: int
    created_at: int | None

    @classmethod
    def of(cls, row: MessageAnnotation) -> "AnnotationItem":
        return cls(
            id=row.id,
            question=row.question,
            answer=row.content,
            hit_count=row.hit_count,
            created_at=timestamp(row.created_at),
        )


class AnnotationPage(BaseModel):
    data: list[AnnotationItem]
    has_more: bool
    limit: int
    total: int
    page: int


class ReplyJob(BaseModel):
    job_id: str
    job_status: str


class ReplyJobStatus(BaseModel):
    job_id: str
    job_status: str
    error_msg: str
