"""Stop requests: only the end user who started a task may stop it; others are ignored."""

from app.runtime import Runtime
from app.services.end_users import lookup as end_users


async def stop(runtime: Runtime, app_id: str, task_id: str, user: str) -> None:
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        return
    await runtime.registry.request_stop(task_id, f"end-user-{end_user.id}")
