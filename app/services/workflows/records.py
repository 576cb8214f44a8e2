"""Rows a workflow run writes: the run (and, for workflow apps, its app log) up front, each
node execution as it finishes (batched off the event path), the run's end last."""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, update

from app.core.db import session_scope
from app.core.nul import without_nul
from app.engine.variables.values import plain
from app.engine.workflow.engine import WorkflowOutcome
from app.engine.workflow.events import NodeExecution, scrub
from app.models import WorkflowAppLog, WorkflowNodeExecution, WorkflowRun
from app.models.base import utcnow

logger = logging.getLogger("kiln.workflow")

FLUSH_EVERY = 0.2  # seconds: node rows are written in batches this far apart at most

# Dify's stop reasons (QueueStopEvent): a stopped run's `error`.
STOPPED_BY_USER = "Stopped by user."
STOPPED_BY_MODERATION = "Stopped by output moderation."


async def create_run(run: WorkflowRun, log: bool) -> None:
    async with session_scope() as session:
        session.add(run)
        if log:
            await session.flush()
            session.add(
                WorkflowAppLog(
                    app_id=run.app_id,
                    workflow_id=run.workflow_id,
                    workflow_run_id=run.id,
                    created_by=run.created_by,
                    created_at=run.created_at,
                )
            )


def _clean(value: Any, secrets: frozenset[str]) -> Any:
    value = plain(value)
    return scrub(value, secrets) if secrets else value


def _at(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class NodeRecorder:
    """Collects finished node executions and writes them in batches from one task, so the
    scheduler never waits on the database."""

    def __init__(self, app_id: str, workflow_id: str, run_id: str, secrets: frozenset[str]) -> None:
        self._app_id, self._workflow_id, self._run_id = app_id, workflow_id, run_id
        self._secrets = secrets
        self._pending: list[WorkflowNodeExecution] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._write_loop(), name=f"node-rows-{run_id}")

    def add(self, execution: NodeExecution) -> None:
        self._pending.append(
            WorkflowNodeExecution(
                id=execution.id,
                app_id=self._app_id,
                workflow_id=self._workflow_id,
                workflow_run_id=self._run_id,
                index=execution.index,
                predecessor_node_id=execution.predecessor_node_id,
                node_id=execution.spec.id,
                node_type=execution.spec.type,
                title=execution.spec.title,
                inputs=_clean(execution.inputs, self._secrets),
                process_data=_clean(execution.process_data, self._secrets),
                outputs=_clean(execution.outputs, self._secrets),
                status=execution.status,
                error=without_nul(execution.error) if execution.error else None,
                elapsed_time=execution.elapsed,
                execution_metadata=_clean(execution.metadata, self._secrets),
                created_at=_at(execution.started) or utcnow(),
                finished_at=_at(execution.finished),
            )
        )
        self._wake.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
            if self._closing:
                return
            await asyncio.sleep(FLUSH_EVERY)

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            async with session_scope(background=True) as session:
                session.add_all(batch)
        except Exception:
            logger.exception(
                "could not store %d node executions of run %s", len(batch), self._run_id
            )

    async def close(self) -> None:
        """Write what is left; returns once every execution so far is stored."""
        self._closing = True
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._flush()


async def finish_run(run_id: str, outcome: WorkflowOutcome, secrets: frozenset[str]) -> None:
    values: dict[str, Any] = {
        "status": outcome.status,
        "outputs": _clean(outcome.outputs, secrets),
        "error": without_nul(outcome.error) if outcome.error else None,
        "elapsed_time": outcome.elapsed,
        "total_tokens": outcome.total_tokens,
        "total_steps": outcome.total_steps,
        "exceptions_count": outcome.exceptions,
        "finished_at": utcnow(),
    }
    async with session_scope(background=True) as session:
        await session.exec(
            update(WorkflowRun).where(col(WorkflowRun.id) == run_id).values(**values)
        )


async def fail_run(run_id: str, error: str) -> None:
    values = {"status": "failed", "error": error, "finished_at": utcnow()}
    async with session_scope(background=True) as session:
        await session.exec(
            update(WorkflowRun).where(col(WorkflowRun.id) == run_id).values(**values)
        )


async def skip_run(run_id: str, answer: str) -> None:
    """The turn was answered before the workflow ran (moderation, annotation reply)."""
    values = {"status": "succeeded", "outputs": {"answer": answer}, "finished_at": utcnow()}
    async with session_scope() as session:
        await session.exec(
            update(WorkflowRun).where(col(WorkflowRun.id) == run_id).values(**values)
        )
