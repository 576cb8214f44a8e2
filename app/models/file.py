"""Uploaded files and the files attached to messages."""

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utcnow


class UploadFile(SQLModel, table=True):
    __tablename__ = "upload_files"

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", index=True, max_length=36, ondelete="CASCADE")
    storage_key: str = Field(max_length=255)
    name: str = Field(max_length=255)
    size: int
    extension: str = Field(max_length=255)  # as Dify: the whole extension, however long
    mime_type: str | None = Field(default=None, max_length=255)
    hash: str | None = Field(default=None, max_length=64)
    created_by_role: str = Field(default="end_user", max_length=16)
    created_by: str = Field(max_length=36)
    source_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    used: bool = False
    used_by: str | None = Field(default=None, max_length=36)
    used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class MessageFile(SQLModel, table=True):
    __tablename__ = "message_files"
    __table_args__ = (
        Index("ix_message_files_message", "message_id"),
        Index("ix_message_files_upload_file", "upload_file_id"),  # preview's ownership check
    )

    id: str = id_field()
    message_id: str = Field(foreign_key="messages.id", max_length=36, ondelete="CASCADE")
    type: str = Field(max_length=16)  # image | document | audio | video | custom
    transfer_method: str = Field(max_length=16)  # local_file | remote_url | tool_file
    url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    belongs_to: str = Field(default="user", max_length=16)  # user | assistant
    upload_file_id: str | None = Field(default=None, max_length=36)
    created_by_role: str = Field(default="end_user", max_length=16)
    created_by: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
