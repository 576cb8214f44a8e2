"""The workflow version a graph-app run uses, compiled once per version and process.

Versions are the app's imports (app_versions; a graph app's version id is Dify's
`workflow_id`): a run takes the app's current version, or the one `POST
/v1/workflows/{workflow_id}/run` names. A version never changes, so its compiled graph
is cached by its id; the cache answers only the app the version belongs to."""

import uuid
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import BadRequest, NotFound
from app.engine.workflow.engine import CompiledWorkflow, compile_workflow
from app.models import App, AppVersion


@dataclass(frozen=True, slots=True)
class WorkflowVersion:
    id: str
    app_id: str
    compiled: CompiledWorkflow
    workflow: dict[str, Any]  # the DSL's `workflow` block of this version
    dsl: dict[str, Any]  # the whole document (features, app info) of this version


_versions: LRUCache[str, WorkflowVersion] = LRUCache(maxsize=get_settings().workflow_cache_size)


def _compiled(app_id: str, version_id: str, dsl: dict[str, Any]) -> WorkflowVersion:
    found = _versions.get(version_id)
    if found is None:
        workflow = dsl.get("workflow")
        workflow = workflow if isinstance(workflow, dict) else {}
        found = WorkflowVersion(version_id, app_id, compile_workflow(workflow), workflow, dsl)
        _versions[version_id] = found
    return found


def current_version(app: App) -> WorkflowVersion:
    """The app's current version, as the request's app row names it."""
    version_id = app.current_version_id or app.id
    return _compiled(app.id, version_id, app.dsl)


async def named_version(app: App, workflow_id: str) -> WorkflowVersion:
    """`POST /v1/workflows/{workflow_id}/run` or a chat's `workflow_id`: one of this app's
    versions (Dify's errors for a malformed or unknown id)."""
    try:
        version_id = str(uuid.UUID(workflow_id))
    except ValueError:
        raise BadRequest(
            f"Invalid workflow_id format: '{workflow_id}'. Expected a valid UUID."
        ) from None
    cached = _versions.get(version_id)
    if cached is not None and cached.app_id == app.id:  # another app's version is unknown here
        return cached
    async with session_scope() as session:
        row = await session.get(AppVersion, version_id)
    if row is None or row.app_id != app.id:
        raise NotFound(f"Workflow not found with id: {workflow_id}")
    return _compiled(app.id, row.id, row.dsl)
