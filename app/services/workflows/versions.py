"""The workflow version an app runs and its compiled graph, built once per version.

Until apps keep explicit versions, a version is the app's workflow as imported: its id is
derived from the app and the DSL's content, so it is stable across processes and changes
when the app's DSL does."""

import hashlib
import json
import uuid
from dataclasses import dataclass

from cachetools import LRUCache

from app.core.config import get_settings
from app.engine.workflow.engine import CompiledWorkflow, compile_workflow
from app.models import App

_NAMESPACE = uuid.UUID("5b0d3c8e-6c2f-4a55-9a1e-6c1a3f0b8d2e")


@dataclass(frozen=True, slots=True)
class WorkflowVersion:
    id: str
    compiled: CompiledWorkflow


_versions: LRUCache[tuple[str, str], WorkflowVersion] = LRUCache(
    maxsize=get_settings().workflow_cache_size
)


def current_version(app: App) -> WorkflowVersion:
    key = (app.id, app.updated_at.isoformat())
    found = _versions.get(key)
    if found is not None:
        return found
    workflow = app.dsl.get("workflow")
    workflow = workflow if isinstance(workflow, dict) else {}
    digest = hashlib.sha256(
        json.dumps(workflow, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    version = WorkflowVersion(
        str(uuid.uuid5(_NAMESPACE, f"{app.id}:{digest}")), compile_workflow(workflow)
    )
    _versions[key] = version
    return version
