"""`POST /v1/files/upload` and `GET /v1/files/{file_id}/preview`."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from app.api.body import parse_model
from app.api.deps import AppDep, RuntimeDep
from app.api.middleware import is_head
from app.schemas.files import UploadedFile
from app.schemas.queries import FilePreviewQuery
from app.services.files import preview as files_preview
from app.services.files import upload as files_upload
from app.services.files.signing import signed_url

router = APIRouter(tags=["files"])


@router.post("/files/upload", status_code=201)
async def upload_file(request: Request, app: AppDep, runtime: RuntimeDep) -> JSONResponse:
    settings = runtime.settings
    content_type = request.headers.get("content-type", "")
    row = await files_upload.upload(app, request.stream(), content_type, settings)
    body = UploadedFile.of(row, signed_url(settings, row.id))
    return JSONResponse(body.model_dump(), status_code=201)


@router.get("/files/{file_id:dify_uuid}/preview")
async def preview_file(
    file_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> StreamingResponse:
    query = parse_model(FilePreviewQuery, dict(request.query_params))
    body = await files_preview.preview(
        runtime.settings, app.id, file_id, query.as_attachment, is_head(request.scope)
    )
    return StreamingResponse(body.chunks, media_type=body.media_type, headers=body.headers)
