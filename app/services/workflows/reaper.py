"""Close workflow runs left running by a process that died (its heartbeat lapsed), as the
message reaper does for messages (an advanced-chat run's message is closed by that one)."""

import logging

from sqlmodel import col, select, update

from app.core.db import rows_changed, session_scope
from app.models import WorkflowRun
from app.models.base import utcnow
from app.tasks.heartbeat import WorkerHeartbeat

logger = logging.getLogger("kiln.reaper")

INTERRUPTED = "The run was interrupted: the server running it stopped."


async def reap_orphan_runs(heartbeat: WorkerHeartbeat) -> int:
    async with session_scope() as session:
        statement = select(WorkflowRun.worker_id).where(WorkflowRun.status == "running").distinct()
        worker_ids = {w for w in (await session.exec(statement)).all() if w}
    dead = worker_ids - await heartbeat.live_workers(worker_ids) if worker_ids else set()
    if not dead:
        return 0
    async with session_scope() as session:
        running = col(WorkflowRun.status) == "running"
        orphaned = running & col(WorkflowRun.worker_id).in_(dead)
        result = await session.exec(
            update(WorkflowRun)
            .where(orphaned)
            .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
        )
        count = rows_changed(result)
    if count:
        logger.warning("reaper closed %d interrupted workflow run(s)", count)
    return count
