"""Forms whose time ran out (Dify's timeout): each is marked `timeout` by exactly one
replica, and its run resumes along the node's `__timeout` branch. Also resumes runs whose
forms were all answered but that no replica took up (one that stopped in between)."""

import logging

from sqlmodel import col, select, update

from app.core.db import rows_changed, session_scope
from app.models import HumanInputForm, WorkflowPause
from app.models.base import utcnow
from app.runtime import Runtime
from app.services.workflows.resume import resume_run

logger = logging.getLogger("kiln.workflow")

BATCH = 100


async def expire_due_forms(runtime: Runtime) -> int:
    now = utcnow()
    async with session_scope(read_only=True) as session:
        due = (
            await session.exec(
                select(HumanInputForm.id, HumanInputForm.workflow_run_id)
                .where(col(HumanInputForm.status) == "waiting")
                .where(col(HumanInputForm.expiration_time) <= now)
                .limit(BATCH)
            )
        ).all()
        # Runs nobody resumed though no form of theirs still waits (rare): one query, the
        # database filters out the runs still waiting on a person (both sides indexed), so
        # this replica never loads or claims them.
        still_waiting = (
            select(HumanInputForm.id)
            .where(col(HumanInputForm.workflow_run_id) == WorkflowPause.workflow_run_id)
            .where(col(HumanInputForm.status) == "waiting")
        )
        answered = (
            await session.exec(
                select(WorkflowPause.workflow_run_id)
                .where(col(WorkflowPause.resumed_at).is_(None))
                .where(~still_waiting.exists())
                .limit(BATCH)
            )
        ).all()
    runs: set[str] = set()
    for form_id, run_id in due:
        async with session_scope() as session:
            taken = await session.exec(
                update(HumanInputForm)
                .where(col(HumanInputForm.id) == form_id)
                .where(col(HumanInputForm.status) == "waiting")
                .values(status="timeout")
            )
        if rows_changed(taken) == 1:
            runs.add(run_id)
    resumed = 0
    for run_id in runs | set(answered):
        try:
            resumed += await resume_run(runtime, run_id)
        except Exception:
            logger.exception("could not resume run %s", run_id)
    return resumed
