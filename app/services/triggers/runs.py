"""A run a trigger started: a workflow run from the trigger's node (the other entry points
skipped), by the app's trigger user, recorded with Dify's `triggered_from` (`webhook`,
`schedule`) and without an app log (Dify logs only API and web-app runs there; the run is
readable with `GET /v1/workflows/run/{id}`). Nobody listens to its events; it runs as its
own task like any run, bounded by the same limits, stopped at shutdown like the others.

`prepare` writes nothing, so a caller can store the run row in its own transaction (the
scheduler stores it with the tick it claims); `start` then runs it."""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from app.engine.channel import EventChannel
from app.engine.variables.values import plain
from app.engine.workflow.events import WorkflowStream
from app.models import App, EndUser
from app.models import WorkflowRun as WorkflowRunRow
from app.runtime import Runtime
from app.services.workflows.records import fail_run
from app.services.workflows.run_task import GraphTask, run_graph_task
from app.services.workflows.setup import build_pool, services, started_inputs, workflow_run
from app.services.workflows.versions import WorkflowVersion

logger = logging.getLogger("kiln.triggers")


@dataclass(slots=True)
class TriggeredRun:
    row: WorkflowRunRow  # to be stored before `start`
    task: GraphTask


def prepare(
    runtime: Runtime,
    app: App,
    version: WorkflowVersion,
    end_user: EndUser,
    root_id: str,
    inputs: dict[str, Any],
    triggered_from: str,
) -> TriggeredRun:
    run_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    system = {
        "files": [],
        "user_id": end_user.session_id,
        "app_id": app.id,
        "workflow_id": version.id,
        "workflow_run_id": run_id,
    }
    pool = build_pool(app.app_mode, system, version.workflow)
    row = WorkflowRunRow(
        id=run_id,
        app_id=app.id,
        workflow_id=version.id,
        type="workflow",
        triggered_from=triggered_from,
        inputs=dict(plain(inputs)),
        created_by=end_user.id,
        task_id=task_id,
        worker_id=runtime.registry.worker_id,
    )
    task = GraphTask(
        app_id=app.id,
        request_id=uuid.uuid4().hex,  # holds no active-request slot (Dify's triggers neither)
        version=version,
        workflow=workflow_run(
            runtime,
            app,
            version,
            (run_id, task_id),
            inputs,
            services(runtime, app.id, end_user.id),
            root_id=root_id,
        ),
        pool=pool,
        stream=WorkflowStream(task_id, run_id, None, pool.secrets),
        channel=EventChannel.unheard(),
        stop=asyncio.Event(),  # replaced by the registry's when it starts
        created_by={"id": end_user.id, "user": end_user.session_id},
        created_at=int(time.time()),
        started_inputs=started_inputs(inputs, system),
    )
    return TriggeredRun(row, task)


async def start(runtime: Runtime, run: TriggeredRun) -> None:
    """Run a prepared run whose row is stored; a run that cannot start is stored failed."""
    task = run.task
    try:
        handle = await runtime.registry.register(task.workflow.task_id, f"app-{task.app_id}")
    except Exception:
        logger.exception("could not start triggered run %s", run.row.id)
        await fail_run(run.row.id, "Internal Server Error")
        raise
    task.stop = handle.stop_requested
    name = f"workflow-{task.workflow.task_id}"
    runtime.track(asyncio.create_task(run_graph_task(runtime, task), name=name))
