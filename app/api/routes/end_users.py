"""`GET /v1/end-users/{end_user_id}`: an end user of the calling app."""

from fastapi import APIRouter

from app.api.deps import AppDep
from app.schemas.end_user import EndUserDetail
from app.services.end_users import lookup as end_users

router = APIRouter(tags=["end_users"])


@router.get("/end-users/{end_user_id:dify_uuid}")
async def get_end_user(end_user_id: str, app: AppDep) -> EndUserDetail:
    end_user = await end_users.get_by_id(app.id, end_user_id)
    return EndUserDetail.of(end_user)
