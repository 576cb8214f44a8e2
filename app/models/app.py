"""Imported apps and their API keys."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.core.app_mode import AppMode
from app.models.base import id_field, json_field, utcnow


class App(SQLModel, table=True):
    __tablename__ = "apps"

    id: str = id_field()
    name: str = Field(max_length=255)
    mode: str = Field(max_length=32)
    description: str = Field(default="")
    icon: str | None = Field(default=None, max_length=255)
    icon_type: str = Field(default="emoji", max_length=16)
    icon_background: str | None = Field(default="#FFFFFF", max_length=32)
    use_icon_as_answer_icon: bool = False
    dsl_version: str = Field(default="0.1.0", max_length=16)
    # The whole DSL document, unknown keys included.
    dsl: dict[str, Any] = json_field()
    max_active_requests: int | None = None
    enable_api: bool = True
    status: str = Field(default="normal", max_length=16)
    # A stable name for the app (`kiln apps sync` matches files by it; commands accept it
    # where they accept the id).
    source_key: str | None = Field(default=None, max_length=255, unique=True)
    current_version_id: str | None = Field(default=None, max_length=36)
    # "sync": made by `kiln apps sync`, so a later sync may report (and prune) it when its
    # file is gone; "import": made by `kiln apps import`, never touched by a sync.
    origin: str = Field(default="import", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def app_mode(self) -> AppMode:
        return AppMode(self.mode)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", index=True, max_length=36, ondelete="CASCADE")
    type: str = Field(default="app", max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    token_hint: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
