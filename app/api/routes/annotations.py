"""Annotations and annotation reply (dify-api-behavior.md §10): CRUD, and the enable /
disable jobs with their status."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.body import parse_model, read_json
from app.api.deps import AppDep, RuntimeDep
from app.core.nul import check_no_nul
from app.schemas.annotation import (
    AnnotationItem,
    AnnotationPage,
    AnnotationPayload,
    ReplyJob,
    ReplyJobStatus,
    ReplySettingsPayload,
)
from app.services.annotations import crud as annotations
from app.services.annotations import toggle_jobs as annotation_reply_jobs

router = APIRouter(tags=["annotations"])


def _int_arg(value: str | None, default: int) -> int:
    """Flask's `args.get(type=int)`: a missing or malformed value reads as the default."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@router.get("/apps/annotations")
async def list_annotations(
    app: AppDep, page: str | None = None, limit: str | None = None, keyword: str = ""
) -> AnnotationPage:
    check_no_nul(keyword)
    page_no, size = _int_arg(page, 1), _int_arg(limit, 20)
    return await annotations.list_page(app.id, max(page_no, 1), size, keyword, shown_page=page_no)


@router.post("/apps/annotations", status_code=201)
async def create_annotation(request: Request, app: AppDep, runtime: RuntimeDep) -> AnnotationItem:
    payload = parse_model(AnnotationPayload, await read_json(request))
    return await annotations.create(runtime, app.id, payload.question, payload.answer)


@router.put("/apps/annotations/{annotation_id:dify_uuid}")
async def update_annotation(
    annotation_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> AnnotationItem:
    payload = parse_model(AnnotationPayload, await read_json(request))
    return await annotations.update_one(
        runtime, app.id, annotation_id, payload.question, payload.answer
    )


@router.delete("/apps/annotations/{annotation_id:dify_uuid}", status_code=204)
async def delete_annotation(annotation_id: str, app: AppDep) -> Response:
    await annotations.delete_one(app.id, annotation_id)
    return Response(status_code=204)


@router.post("/apps/annotation-reply/{action}")
async def annotation_reply_action(
    action: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> ReplyJob:
    payload = parse_model(ReplySettingsPayload, await read_json(request))
    return await annotation_reply_jobs.start(runtime, app.id, action, payload)


@router.get("/apps/annotation-reply/{action}/status/{job_id:dify_uuid}")
async def annotation_reply_status(
    action: str, job_id: str, app: AppDep, runtime: RuntimeDep
) -> ReplyJobStatus:
    return await annotation_reply_jobs.status(runtime, action, job_id)
