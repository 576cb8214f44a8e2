"""`GET /v1/end-users/{id}`: Dify's end-user detail with ISO 8601 datetimes."""

from datetime import UTC, datetime

from pydantic import BaseModel

from app.models import EndUser


def iso_utc(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EndUserDetail(BaseModel):
    id: str
    tenant_id: str
    app_id: str | None
    type: str
    external_user_id: str | None
    name: str | None
    is_anonymous: bool
    session_id: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, row: EndUser) -> "EndUserDetail":
        return cls(
            id=row.id,
            # Kiln has no workspaces: each app is its own tenant.
            tenant_id=row.app_id,
            app_id=row.app_id,
            type=row.type,
            external_user_id=row.external_user_id,
            name=row.name,
            is_anonymous=row.is_anonymous,
            session_id=row.session_id,
            created_at=iso_utc(row.created_at),
            updated_at=iso_utc(row.updated_at),
        )
