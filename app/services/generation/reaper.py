"""Close messages left running by a process that died, so none stays running forever.

A message is running while its worker's heartbeat is alive (app/tasks/heartbeat.py). Once
the heartbeat has lapsed the message is closed as Dify stores a failed one (`status:
error` and the error), keeping the answer saved while it streamed: what its client saw."""

import logging

from sqlmodel import col, select, update

from app.core.db import rows_changed, session_scope
from app.models import Message
from app.models.base import utcnow
from app.tasks.heartbeat import WorkerHeartbeat

logger = logging.getLogger("kiln.reaper")

INTERRUPTED = "The generation was interrupted: the server running it stopped."


async def reap_orphans(heartbeat: WorkerHeartbeat) -> int:
    async with session_scope(read_only=True) as session:
        statement = select(Message.worker_id).where(col(Message.is_running).is_(True)).distinct()
        worker_ids = {w for w in (await session.exec(statement)).all() if w}
        running_without_worker = (
            await session.exec(
                select(Message.id)
                .where(col(Message.is_running).is_(True), col(Message.worker_id).is_(None))
                .limit(1)
            )
        ).first()
    dead = worker_ids - await heartbeat.live_workers(worker_ids) if worker_ids else set()
    if not dead and running_without_worker is None:
        return 0
    async with session_scope() as session:
        condition = col(Message.worker_id).in_(dead) | col(Message.worker_id).is_(None)
        result = await session.exec(
            update(Message)
            .where(col(Message.is_running).is_(True), condition)
            .values(is_running=False, status="error", error=INTERRUPTED, updated_at=utcnow())
        )
        count = rows_changed(result)
    if count:
        logger.warning("reaper closed %d interrupted message(s)", count)
    return count
