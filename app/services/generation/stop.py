"""Stop requests: only the end user who started a task may stop it; others are ignored. A
chatflow paused at a human input form has no task to hear it: it ends at once."""

from app.runtime import Runtime
from app.services.end_users import lookup as end_users
from app.services.workflows.paused_runs import stop_paused_run


async def stop(runtime: Runtime, app_id: str, task_id: str, user: str) -> None:
    end_user = await end_users.find(app_id, user)
    if end_user is None:
        return
    await runtime.registry.request_stop(task_id, f"end-user-{end_user.id}")
    await stop_paused_run(app_id, task_id, end_user.id)
