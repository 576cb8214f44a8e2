"""Workflow apps (dify-api-behavior.md §11): run, read a run, stop, and the run logs."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.body import parse_model, read_json, required_user
from app.api.deps import AppDep, RuntimeDep
from app.api.streaming import respond
from app.core.errors import NotWorkflowApp
from app.models import App
from app.runtime import Runtime
from app.schemas.chat import WorkflowLogsQuery, WorkflowRunPayload
from app.services.workflows import runs
from app.services.workflows.launch import WorkflowCommand, check_workflow_app, start_workflow_run
from app.services.workflows.paused_runs import stop_paused_run

router = APIRouter(tags=["workflows"])


@router.post("/workflows/run")
async def run_workflow(request: Request, app: AppDep, runtime: RuntimeDep) -> Response:
    return await _run(request, app, runtime, None)


@router.post("/workflows/{workflow_id}/run")
async def run_workflow_version(
    workflow_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> Response:
    """Runs one of the app's versions (Dify: a published workflow by id)."""
    return await _run(request, app, runtime, workflow_id)


async def _run(request: Request, app: App, runtime: Runtime, workflow_id: str | None) -> Response:
    data = await read_json(request)
    user = required_user(data)
    check_workflow_app(app)
    payload = parse_model(WorkflowRunPayload, data)
    command = WorkflowCommand(payload.inputs, user, payload.streaming, payload.files, workflow_id)
    generation = await start_workflow_run(runtime, app, command)
    return await respond(generation, payload.streaming, runtime.settings)


@router.get("/workflows/run/{workflow_run_id}")
async def get_workflow_run(workflow_run_id: str, app: AppDep) -> dict[str, object]:
    if not app.app_mode.is_graph:
        raise NotWorkflowApp()
    return await runs.run_detail(app.id, workflow_run_id)


@router.post("/workflows/tasks/{task_id}/stop")
async def stop_workflow(
    task_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> dict[str, str]:
    required_user(await read_json(request))
    check_workflow_app(app)
    # Dify checks no owner for a workflow stop: any user of the app may stop its run.
    await runtime.registry.request_stop(task_id, f"app-{app.id}")
    await stop_paused_run(app.id, task_id)  # a paused run has no task left to hear it
    return {"result": "success"}


@router.get("/workflows/logs")
async def workflow_logs(request: Request, app: AppDep) -> dict[str, object]:
    # Dify checks no mode here: other apps get their (empty) page of logs.
    query = parse_model(WorkflowLogsQuery, dict(request.query_params))
    return await runs.list_logs(
        app.id,
        keyword=query.keyword,
        status=query.status,
        created_after=query.created_at__after,
        created_before=query.created_at__before,
        end_user_session_id=query.created_by_end_user_session_id,
        page=query.page,
        limit=query.limit,
    )
