"""Stop requests that reach a paused run: nothing runs to hear them, so the run ends at
once as `stopped` and its forms expire (Dify's stop command ends a resumed engine with
that status; a paused run here never resumes)."""

from sqlmodel import col, select, update

from app.core.db import rows_changed, session_scope
from app.models import WorkflowRun
from app.models.base import utcnow
from app.services.workflows.forms import close_forms
from app.services.workflows.records import STOPPED_BY_USER, fail_run


async def stop_paused_run(app_id: str, task_id: str, end_user_id: str | None = None) -> bool:
    """`end_user_id`: only that user's run (a chat stop, which only its owner may send)."""
    query = (
        select(WorkflowRun)
        .where(col(WorkflowRun.app_id) == app_id)
        .where(col(WorkflowRun.task_id) == task_id)
        .where(col(WorkflowRun.status) == "paused")
    )
    if end_user_id is not None:
        query = query.where(col(WorkflowRun.created_by) == end_user_id)
    async with session_scope() as session:
        run = (await session.exec(query)).first()
        if run is None:
            return False
        stopped = await session.exec(
            update(WorkflowRun)
            .where(col(WorkflowRun.id) == run.id)
            .where(col(WorkflowRun.status) == "paused")
            .values(status="stopped", error=STOPPED_BY_USER, finished_at=utcnow())
        )
        if rows_changed(stopped) != 1:  # resumed meanwhile on another replica
            return False
    await close_forms(run.id)
    return True


async def fail_paused_run(run_id: str, error: str) -> None:
    """A paused run whose form nobody is shown (a workflow tool's): it fails, its forms
    expire."""
    await fail_run(run_id, error)
    await close_forms(run_id)
