"""Response shape of `POST /v1/files/upload`, as Dify serialises an uploaded file."""

from pydantic import BaseModel

from app.models import UploadFile
from app.models.base import timestamp


class UploadedFile(BaseModel):
    id: str
    name: str
    size: int
    extension: str
    mime_type: str | None
    created_by: str
    created_at: int | None
    preview_url: str | None
    source_url: str | None
    original_url: str | None
    user_id: str
    tenant_id: str | None
    conversation_id: str | None
    file_key: str

    @classmethod
    def of(cls, row: UploadFile, source_url: str) -> "UploadedFile":
        return cls(
            id=row.id,
            name=row.name,
            size=row.size,
            extension=row.extension,
            mime_type=row.mime_type,
            created_by=row.created_by,
            created_at=timestamp(row.created_at),
            preview_url=None,
            source_url=source_url,
            original_url=None,
            user_id=row.created_by,
            tenant_id=None,
            conversation_id=None,
            file_key=row.storage_key,
        )
