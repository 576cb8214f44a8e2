"""Liveness of serving processes, for deployments without Redis."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import utcnow


class WorkerHeartbeat(SQLModel, table=True):
    """One row per running `kiln serve` process, renewed every heartbeat interval; the
    reaper closes running messages of workers whose row is stale or gone."""

    __tablename__ = "worker_heartbeats"

    worker_id: str = Field(primary_key=True, max_length=64)
    beat_at: datetime = Field(default_factory=utcnow)
