"""Look up one end user of the calling app by id."""

from app.core.db import session_scope
from app.core.errors import DifyError
from app.models import EndUser


class EndUserNotFound(DifyError):
    code = "end_user_not_found"
    status = 404
    default_message = "End user not found."


async def get_for_app(app_id: str, end_user_id: str) -> EndUser:
    async with session_scope() as session:
        end_user = await session.get(EndUser, end_user_id)
    if end_user is None or end_user.app_id != app_id:
        raise EndUserNotFound()
    return end_user
