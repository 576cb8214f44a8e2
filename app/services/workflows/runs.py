"""Reading runs: `GET /v1/workflows/run/{id}` and `GET /v1/workflows/logs`."""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, func
from sqlmodel import col, select

from app.core.db import page_offset, read_scope
from app.core.errors import NotFound
from app.models import AppVersion, EndUser, WorkflowAppLog, WorkflowRun
from app.models.base import timestamp


async def run_detail(app_id: str, run_id: str) -> dict[str, Any]:
    async with read_scope() as session:
        run = await session.get(WorkflowRun, run_id)
    if run is None or run.app_id != app_id:
        raise NotFound("Workflow run not found.")
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "status": run.status,
        # Dify returns the stored JSON text here, outputs as an object.
        "inputs": json.dumps(run.inputs, ensure_ascii=False),
        "outputs": run.outputs or {},
        "error": run.error,
        "total_steps": run.total_steps,
        "total_tokens": run.total_tokens,
        "created_at": timestamp(run.created_at),
        "finished_at": timestamp(run.finished_at),
        "elapsed_time": run.elapsed_time,
    }


def _version_name(published: datetime | None) -> str:
    """Dify names a published version by its time (`str` of a naive UTC datetime)."""
    return str(published.replace(tzinfo=None)) if published is not None else ""


def _run_summary(run: WorkflowRun, published: datetime | None) -> dict[str, Any]:
    return {
        "id": run.id,
        "version": _version_name(published),
        "status": run.status,
        "error": run.error,
        "elapsed_time": run.elapsed_time,
        "total_tokens": run.total_tokens,
        "total_steps": run.total_steps,
        "created_at": timestamp(run.created_at),
        "finished_at": timestamp(run.finished_at),
        "exceptions_count": run.exceptions_count,
        "triggered_from": run.triggered_from,
    }


def _end_user(user: EndUser | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "type": user.type,
        "is_anonymous": user.is_anonymous,
        "session_id": user.session_id,
    }


async def list_logs(
    app_id: str,
    *,
    keyword: str | None,
    status: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    end_user_session_id: str | None,
    page: int,
    limit: int,
) -> dict[str, Any]:
    statement = (
        select(WorkflowAppLog, WorkflowRun, EndUser, col(AppVersion.created_at))
        .join(WorkflowRun, col(WorkflowRun.id) == col(WorkflowAppLog.workflow_run_id))
        .join(EndUser, col(EndUser.id) == col(WorkflowAppLog.created_by), isouter=True)
        .join(AppVersion, col(AppVersion.id) == col(WorkflowRun.workflow_id), isouter=True)
        .where(WorkflowAppLog.app_id == app_id)
    )
    if status:
        statement = statement.where(WorkflowRun.status == status)
    if created_after is not None:
        statement = statement.where(col(WorkflowAppLog.created_at) >= created_after)
    if created_before is not None:
        statement = statement.where(col(WorkflowAppLog.created_at) <= created_before)
    if end_user_session_id:
        statement = statement.where(EndUser.session_id == end_user_session_id)
    if keyword:
        # Dify searches the run's inputs and outputs as text.
        pattern = f"%{keyword}%"
        inputs_text = func.cast(col(WorkflowRun.inputs), Text)
        outputs_text = func.cast(col(WorkflowRun.outputs), Text)
        statement = statement.where(inputs_text.ilike(pattern) | outputs_text.ilike(pattern))
    async with read_scope() as session:
        total = (await session.exec(select(func.count()).select_from(statement.subquery()))).one()
        rows = (
            await session.exec(
                statement.order_by(col(WorkflowAppLog.created_at).desc())
                .offset(page_offset(page, limit))
                .limit(limit)
            )
        ).all()
    data = [
        {
            "id": log.id,
            "workflow_run": _run_summary(run, published),
            "created_from": log.created_from,
            "created_by_role": log.created_by_role,
            "created_by_account": None,
            "created_by_end_user": _end_user(user),
            "created_at": timestamp(log.created_at),
        }
        for log, run, user, published in rows
    ]
    return {
        "page": page,
        "limit": limit,
        "total": int(total),
        "has_more": page * limit < int(total),
        "data": data,
    }
