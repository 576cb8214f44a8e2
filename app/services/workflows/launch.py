"""Start a workflow app's run (`POST /v1/workflows/run`): checks in Dify's order, the run's
records, then the run as its own task; the response only listens to its events."""

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from app.core import errors
from app.core.app_mode import AppMode
from app.engine.channel import EventChannel
from app.engine.features import feature_blocks
from app.engine.variables.values import plain
from app.engine.workflow.env import WorkflowRun
from app.engine.workflow.events import WorkflowStream
from app.models import App
from app.models import WorkflowRun as WorkflowRunRow
from app.runtime import Runtime
from app.services.end_users import lookup as end_users
from app.services.files.request_files import resolve_files
from app.services.generation.start import active_request_slot
from app.services.workflows.files import file_value
from app.services.workflows.listener import WorkflowGeneration
from app.services.workflows.records import create_run
from app.services.workflows.run_task import GraphTask, run_graph_task
from app.services.workflows.setup import (
    build_pool,
    limits,
    runnable_version,
    services,
    started_inputs,
)
from app.services.workflows.start_form import check_inputs


@dataclass(slots=True)
class WorkflowCommand:
    inputs: dict[str, Any]
    user: str | None
    streaming: bool
    files: list[Any] | None = None
    call_depth: int = 0  # workflow-as-tool nesting (0: a client's request)


def check_workflow_app(app: App) -> None:
    if app.app_mode is not AppMode.WORKFLOW:
        raise errors.NotWorkflowApp()


async def start_workflow_run(
    runtime: Runtime, app: App, command: WorkflowCommand
) -> WorkflowGeneration:
    check_workflow_app(app)
    async with active_request_slot(runtime, app) as request_id:
        return await _launch(runtime, app, command, request_id)


async def _launch(
    runtime: Runtime, app: App, command: WorkflowCommand, request_id: str
) -> WorkflowGeneration:
    settings = runtime.settings
    end_user = await end_users.get_or_create(app.id, command.user)
    version = runnable_version(app)
    workflow: dict[str, Any] = app.dsl["workflow"]
    inputs = await check_inputs(settings, app.id, workflow, command.inputs)
    request_files, _ = await resolve_files(
        app.id, feature_blocks(app.app_mode, app.dsl), command.files
    )
    if len(request_files) > settings.workflow_file_upload_limit:
        raise errors.InvalidParam(
            f"Number of files exceeds the maximum limit {settings.workflow_file_upload_limit}"
        )
    run_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    system = {
        "files": [file_value(settings, f) for f in request_files],
        "user_id": end_user.session_id,
        "app_id": app.id,
        "workflow_id": version.id,
        "workflow_run_id": run_id,
    }
    pool = build_pool(app.app_mode, system, workflow)
    row = WorkflowRunRow(
        id=run_id,
        app_id=app.id,
        workflow_id=version.id,
        type="workflow",
        inputs=_stored(inputs),
        created_by=end_user.id,
        task_id=task_id,
        worker_id=runtime.registry.worker_id,
    )
    await create_run(row, log=True)
    handle = await runtime.registry.register(task_id, f"app-{app.id}")
    channel = EventChannel()
    task = GraphTask(
        app_id=app.id,
        request_id=request_id,
        version=version,
        workflow=WorkflowRun(
            mode=app.app_mode,
            app_id=app.id,
            workflow_id=version.id,
            run_id=run_id,
            task_id=task_id,
            limits=limits(runtime),
            services=services(runtime, app.id, end_user.id),
            inputs=inputs,
            call_depth=command.call_depth,
        ),
        pool=pool,
        stream=WorkflowStream(task_id, run_id, None, pool.secrets),
        channel=channel,
        stop=handle.stop_requested,
        created_by={"id": end_user.id, "user": end_user.session_id},
        created_at=int(time.time()),
        started_inputs=started_inputs(inputs, system),
    )
    runtime.track(asyncio.create_task(run_graph_task(runtime, task), name=f"workflow-{task_id}"))
    return WorkflowGeneration(task_id, run_id, channel)


def _stored(inputs: dict[str, Any]) -> dict[str, Any]:
    return dict(plain(inputs))
