"""Signed, expiring file URLs under /files (outside /v1, as Dify serves them):
`/files/{id}/file-preview` and `/files/{id}/image-preview`."""

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.api.deps import RuntimeDep
from app.api.middleware import is_head
from app.services.files.preview import signed_preview

router = APIRouter(tags=["files"])


async def _serve(
    request: Request, runtime: RuntimeDep, kind: str, file_id: str
) -> StreamingResponse:
    params = dict(request.query_params)
    body = await signed_preview(
        runtime.settings, kind, file_id, params, headers_only=is_head(request.scope)
    )
    return StreamingResponse(body.chunks, media_type=body.media_type, headers=body.headers)


@router.get("/files/{file_id:dify_uuid}/file-preview")
async def file_preview(file_id: str, request: Request, runtime: RuntimeDep) -> StreamingResponse:
    return await _serve(request, runtime, "file-preview", file_id)


@router.get("/files/{file_id:dify_uuid}/image-preview")
async def image_preview(file_id: str, request: Request, runtime: RuntimeDep) -> StreamingResponse:
    return await _serve(request, runtime, "image-preview", file_id)
