"""Every import of an app is kept as a version: the DSL as imported (byte for byte, for
export), and for graph apps the version's id is Dify's `workflow_id`."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utcnow


class AppVersion(SQLModel, table=True):
    __tablename__ = "app_versions"
    __table_args__ = (Index("ix_app_versions_app_number", "app_id", "number", unique=True),)

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    number: int  # 1, 2, … per app, in import order
    dsl: dict[str, Any] = json_field()
    dsl_text: str = Field(sa_column=Column(Text, nullable=False))  # exactly as imported
    dsl_sha256: str = Field(max_length=64)
    dsl_version: str = Field(default="0.1.0", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
