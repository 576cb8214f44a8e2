"""The triggers of apps (Dify's workflow_webhook_triggers and workflow_schedule_plans in
one table), and the schedule fires claimed so far.

A row per trigger node of an app, kept for the node's id while the app exists: a webhook
keeps its URL across updates and rollbacks; `active` says whether the node is in the app's
current version. A fire row is unique per (app, node, fire time): among replicas, exactly
one claims each tick of a schedule."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import id_field, utcnow


class AppTrigger(SQLModel, table=True):
    __tablename__ = "app_triggers"
    __table_args__ = (
        UniqueConstraint("app_id", "node_id", name="uq_app_triggers_app_node"),
        UniqueConstraint("webhook_id", name="uq_app_triggers_webhook_id"),
        Index("ix_app_triggers_due", "type", "next_run_at"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    node_id: str = Field(max_length=255)
    type: str = Field(max_length=32)  # trigger-webhook | trigger-schedule
    active: bool = True  # the node is in the app's current version
    # Webhooks: the id in the URL (Dify's 24 URL-safe characters), made once per node.
    webhook_id: str | None = Field(default=None, max_length=64)
    # Schedules: the cron expression (visual schedules converted) and its timezone; the
    # next fire time (UTC), None while the node is inactive or its schedule unreadable.
    cron_expression: str | None = Field(default=None, max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    next_run_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TriggerFire(SQLModel, table=True):
    __tablename__ = "trigger_fires"
    __table_args__ = (
        UniqueConstraint("app_id", "node_id", "fire_at", name="uq_trigger_fires_tick"),
        Index("ix_trigger_fires_fire_at", "fire_at"),
    )

    id: str = id_field()
    app_id: str = Field(foreign_key="apps.id", max_length=36, ondelete="CASCADE")
    node_id: str = Field(max_length=255)
    fire_at: datetime  # the tick, UTC
    workflow_run_id: str | None = Field(default=None, max_length=36)  # None: not runnable
    worker_id: str | None = Field(default=None, max_length=64)  # the replica that fired it
    created_at: datetime = Field(default_factory=utcnow)
