"""End users: the callers named by the `user` field, scoped to one app."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utcnow


class EndUser(SQLModel, table=True):
    __tablename__ = "end_users"
    __table_args__ = (UniqueConstraint("app_id", "type", "session_id"),)

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", index=True, max_length=36, ondelete="CASCADE")
    type: str = Field(default="service_api", max_length=32)
    external_user_id: str | None = Field(default=None, max_length=255)
    session_id: str = Field(max_length=255)
    name: str | None = Field(default=None, max_length=255)
    is_anonymous: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
