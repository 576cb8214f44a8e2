"""Human input (Dify's service API): a paused run's form by token, its submission, and a
run's events after it resumes."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.body import parse_model, read_json, required_user
from app.api.deps import AppDep, RuntimeDep
from app.api.streaming import sse_response
from app.schemas.human_input import HumanInputSubmitPayload
from app.services.workflows import forms
from app.services.workflows.run_events import open_run_events

router = APIRouter(tags=["human-input"])


@router.get("/form/human_input/{form_token}")
async def get_form(form_token: str, app: AppDep) -> dict[str, object]:
    return await forms.get_form(app, form_token)


@router.post("/form/human_input/{form_token}")
async def submit_form(
    form_token: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> dict[str, object]:
    data = await read_json(request)
    user = required_user(data)
    payload = parse_model(HumanInputSubmitPayload, data)
    await forms.submit_form(runtime, app, form_token, payload.action, payload.inputs, user)
    return {}


@router.get("/workflow/{workflow_run_id}/events")
async def run_events(
    workflow_run_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> Response:
    user = request.query_params.get("user") or ""
    frames = await open_run_events(app, workflow_run_id, user)
    return sse_response(frames, runtime.settings)
