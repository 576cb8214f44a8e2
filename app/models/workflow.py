"""Runs of graph apps and what each node did (Dify's workflow_runs,
workflow_node_executions, workflow_app_logs)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, utcnow


class WorkflowRun(SQLModel, table=True):
    __tablename__ = "workflow_runs"
    __table_args__ = (
        Index("ix_workflow_runs_app_created", "app_id", "created_at"),
        Index("ix_workflow_runs_running", "status", "worker_id"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    workflow_id: str = Field(max_length=36)  # the version that ran
    type: str = Field(max_length=16)  # workflow | chat
    triggered_from: str = Field(default="app-run", max_length=32)
    version: str = Field(default="", max_length=64)
    inputs: dict[str, Any] = json_field()
    status: str = Field(default="running", max_length=32)
    outputs: dict[str, Any] = json_field()
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    elapsed_time: float = 0.0
    total_tokens: int = 0
    total_steps: int = 0
    exceptions_count: int = 0
    created_by_role: str = Field(default="end_user", max_length=16)
    created_by: str = Field(max_length=36)  # the end user's id
    task_id: str | None = Field(default=None, max_length=36)
    conversation_id: str | None = Field(default=None, max_length=36)  # advanced-chat
    message_id: str | None = Field(default=None, max_length=36)
    worker_id: str | None = Field(default=None, max_length=64)  # the process running it
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class WorkflowNodeExecution(SQLModel, table=True):
    __tablename__ = "workflow_node_executions"
    __table_args__ = (Index("ix_workflow_node_executions_run", "workflow_run_id", "index"),)

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    workflow_id: str = Field(max_length=36)
    workflow_run_id: str = Field(foreign_key="workflow_runs.id", max_length=36, ondelete="CASCADE")
    index: int = 0
    predecessor_node_id: str | None = Field(default=None, max_length=255)
    node_id: str = Field(max_length=255)
    node_type: str = Field(max_length=64)
    title: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    inputs: Any = json_field(default_factory=lambda: None)
    process_data: Any = json_field(default_factory=lambda: None)
    outputs: Any = json_field(default_factory=lambda: None)
    status: str = Field(max_length=32)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    elapsed_time: float = 0.0
    execution_metadata: Any = json_field(default_factory=lambda: None)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class WorkflowAppLog(SQLModel, table=True):
    __tablename__ = "workflow_app_logs"
    __table_args__ = (Index("ix_workflow_app_logs_app_created", "app_id", "created_at"),)

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    workflow_id: str = Field(max_length=36)
    workflow_run_id: str = Field(foreign_key="workflow_runs.id", max_length=36, ondelete="CASCADE")
    created_from: str = Field(default="service-api", max_length=32)
    created_by_role: str = Field(default="end_user", max_length=16)
    created_by: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
