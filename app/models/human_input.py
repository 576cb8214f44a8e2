"""Paused graph runs and the forms they wait on (Dify's workflow_pauses and
human_input_forms): a pause row holds the run's snapshot (JSON) until a form is answered
or expires, whichever replica that happens on."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utcnow


class WorkflowPause(SQLModel, table=True):
    __tablename__ = "workflow_pauses"
    __table_args__ = (
        UniqueConstraint("workflow_run_id", name="uq_workflow_pauses_run"),
        # Every replica's upkeep looks for pauses nobody resumed yet.
        Index("ix_workflow_pauses_resumed_at", "resumed_at"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    workflow_run_id: str = Field(foreign_key="workflow_runs.id", max_length=36, ondelete="CASCADE")
    state: dict[str, Any] = json_field()  # the engine's snapshot
    reasons: list[Any] = json_field(default_factory=list)  # Dify's pause reasons
    created_at: datetime = Field(default_factory=utcnow)
    resumed_at: datetime | None = None  # set by the replica that claimed the resumption


class HumanInputForm(SQLModel, table=True):
    __tablename__ = "human_input_forms"
    __table_args__ = (
        UniqueConstraint("form_token", name="uq_human_input_forms_token"),
        Index("ix_human_input_forms_due", "status", "expiration_time"),
        Index("ix_human_input_forms_run", "workflow_run_id"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    workflow_run_id: str = Field(foreign_key="workflow_runs.id", max_length=36, ondelete="CASCADE")
    node_id: str = Field(max_length=255)
    form_token: str = Field(max_length=64)
    status: str = Field(default="waiting", max_length=16)  # waiting|submitted|timeout|expired
    definition: dict[str, Any] = json_field()  # the form as shown (content, inputs, actions)
    expiration_time: datetime
    selected_action_id: str | None = Field(default=None, max_length=64)
    submitted_data: dict[str, Any] | None = json_field(default_factory=lambda: None)
    submitted_by: str | None = Field(default=None, max_length=36)  # the end user
    submitted_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
