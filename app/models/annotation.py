"""Annotations (curated question → answer pairs), the app's annotation-reply setting,
the annotations' embeddings and the history of annotation hits."""

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utcnow

# Added by migration 0003 only where pgvector is installable; not part of the models.
OPTIONAL_COLUMNS = {("annotation_embeddings", "embedding")}


def in_schema_compare(
    obj: object, name: str | None, type_: str, reflected: bool, _: object
) -> bool:
    """Alembic `include_object`: leave the optional pgvector column out of comparisons."""
    table = getattr(getattr(obj, "table", None), "name", None)
    return not (type_ == "column" and reflected and (table, name) in OPTIONAL_COLUMNS)


class MessageAnnotation(SQLModel, table=True):
    __tablename__ = "message_annotations"
    __table_args__ = (Index("ix_message_annotations_app_created", "app_id", "created_at"),)

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    conversation_id: str | None = Field(default=None, max_length=36)
    message_id: str | None = Field(default=None, max_length=36)
    question: str = Field(sa_column=Column(Text, nullable=False))
    content: str = Field(sa_column=Column(Text, nullable=False))  # the answer
    hit_count: int = 0
    account_id: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AppAnnotationSetting(SQLModel, table=True):
    """One row per app once annotation reply was ever requested.

    `latest_job_id` is claimed by every enable/disable request: a job only commits while
    it is still the latest (last writer wins). `index_version` changes with every write to
    the app's embeddings, so replicas know when a cached index is stale.
    """

    __tablename__ = "app_annotation_settings"

    app_id: str = Field(primary_key=True, foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    enabled: bool = False
    score_threshold: float = 1.0
    embedding_provider_name: str = Field(default="", max_length=255)
    embedding_model_name: str = Field(default="", max_length=255)
    latest_job_id: str | None = Field(default=None, max_length=36)
    index_version: str = Field(default="", max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AnnotationEmbedding(SQLModel, table=True):
    """The vector of one annotation's question (little-endian float32, L2-normalised)."""

    __tablename__ = "annotation_embeddings"

    annotation_id: str = Field(
        primary_key=True, foreign_key="message_annotations.id", max_length=36, ondelete="CASCADE"
    )
    app_id: str = Field(foreign_key="apps.id", index=True, max_length=36, ondelete="CASCADE")
    question: str = Field(sa_column=Column(Text, nullable=False))  # the text embedded
    provider: str = Field(max_length=255)
    model: str = Field(max_length=255)
    dimensions: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class AppAnnotationHitHistory(SQLModel, table=True):
    __tablename__ = "app_annotation_hit_histories"
    __table_args__ = (
        Index("ix_annotation_hit_histories_annotation", "annotation_id"),
        Index("ix_annotation_hit_histories_app", "app_id", "created_at"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    annotation_id: str = Field(
        foreign_key="message_annotations.id", max_length=36, ondelete="CASCADE"
    )
    source: str = Field(default="api", max_length=32)
    question: str = Field(sa_column=Column(Text, nullable=False))  # the user's query
    account_id: str = Field(max_length=36)
    score: float = 0.0
    message_id: str = Field(max_length=36)
    annotation_question: str = Field(sa_column=Column(Text, nullable=False))
    annotation_content: str = Field(sa_column=Column(Text, nullable=False))
    from_end_user_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
