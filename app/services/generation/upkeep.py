"""Background upkeep of a serving process's generations: saving each running answer as it
streams (batched, every KILN_ANSWER_SAVE_INTERVAL), and reaping the running messages and
workflow runs of workers whose heartbeat lapsed and timing out human input forms (every
KILN_HEARTBEAT_INTERVAL). Both run
until the process has drained, so a stream that goes on during a graceful exit is saved
too."""

import asyncio
import contextlib
import logging

from app.runtime import Runtime
from app.services.generation.reaper import reap_orphans
from app.services.generation.records import save_running_answers
from app.services.workflows.expiry import expire_due_forms
from app.services.workflows.reaper import reap_orphan_runs

logger = logging.getLogger("kiln.upkeep")


async def _save_answers(runtime: Runtime, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        changes = runtime.answers.changes()
        try:
            await save_running_answers(changes)
        except Exception as exc:  # the database is busy or down: try again next time
            logger.warning("could not save running answers (%s)", type(exc).__name__)
            runtime.answers.unsaved(list(changes))


async def _reap(runtime: Runtime, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await reap_orphans(runtime.heartbeat)
            await reap_orphan_runs(runtime.heartbeat)
        except Exception:
            logger.exception("reaper run failed")
        try:
            await expire_due_forms(runtime)
        except Exception:
            logger.exception("human input form expiry failed")


def start_upkeep(runtime: Runtime) -> list[asyncio.Task[None]]:
    settings = runtime.settings
    tasks = [asyncio.create_task(_reap(runtime, settings.heartbeat_interval), name="kiln-reaper")]
    if settings.answer_save_interval > 0:
        saver = _save_answers(runtime, settings.answer_save_interval)
        tasks.append(asyncio.create_task(saver, name="kiln-answer-saver"))
    return tasks


async def stop_upkeep(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
