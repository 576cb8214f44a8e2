"""A call to `/triggers/webhook/{webhook_id}`, as Dify's webhook controller answers it:
an unknown (or no longer current) webhook is a 404; a call that does not match its node
is a 400 `{"error": "Bad Request", "message": …}` and starts nothing; an accepted call
has its files stored, starts a run from its node (Dify runs webhooks asynchronously, the
only mode it has) and gets the node's configured status code and body at once.

Nothing is half-written: the call is checked whole before anything is stored, and files
stored for a run that could not be recorded are removed again."""

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, delete, select

from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import DifyError, NotFound
from app.core.nul import check_no_nul
from app.engine.nodes.trigger_webhook.node import TriggerWebhookNode
from app.engine.nodes.trigger_webhook.request import (
    PendingFile,
    WebhookCall,
    WebhookRejected,
    accept,
)
from app.engine.nodes.trigger_webhook.response import configured_response
from app.engine.nodes.unavailable import UnavailableNode
from app.engine.variables.values import FileValue
from app.engine.workflow.engine import WorkflowUnrunnable
from app.models import App, AppTrigger, UploadFile
from app.runtime import Runtime
from app.services.end_users.lookup import trigger_user
from app.services.triggers import runs
from app.services.triggers.sync import WEBHOOK
from app.services.workflows.files import file_store
from app.services.workflows.records import create_run
from app.services.workflows.versions import WorkflowVersion, current_version
from app.storage import get_storage

logger = logging.getLogger("kiln.triggers")


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    status: int
    body: Any
    run_id: str | None = field(default=None)  # the run an accepted call started


def bad_request(message: str) -> WebhookAnswer:
    return WebhookAnswer(400, {"error": "Bad Request", "message": message})


async def _webhook(webhook_id: str) -> tuple[AppTrigger, App]:
    async with session_scope() as session:
        statement = (
            select(AppTrigger, App)
            .join(App, col(App.id) == col(AppTrigger.app_id))
            .where(AppTrigger.webhook_id == webhook_id, AppTrigger.type == WEBHOOK)
        )
        found = (await session.exec(statement)).first()
    if found is None or not found[0].active:
        raise NotFound(f"Webhook not found: {webhook_id}")
    return found


def _node(version: WorkflowVersion, node_id: str) -> TriggerWebhookNode | str:
    """The webhook's node, or why it cannot take calls."""
    node = version.compiled.nodes.get(node_id)
    if isinstance(node, UnavailableNode):
        return node.reason
    if not isinstance(node, TriggerWebhookNode):
        return f"node {node_id} is not a webhook trigger of the app's current version"
    try:
        version.compiled.check_runnable(node_id)
    except WorkflowUnrunnable as exc:
        return str(exc)
    return node


async def receive(
    runtime: Runtime, webhook_id: str, call: WebhookCall, body_error: str | None
) -> WebhookAnswer:
    trigger, app = await _webhook(webhook_id)
    if body_error is not None:
        return bad_request(body_error)
    version = current_version(app)
    node = _node(version, trigger.node_id)
    if isinstance(node, str):
        return bad_request(node)
    try:
        accepted = accept(node.config, call)
        # PostgreSQL cannot store NUL: refused on every database alike.
        check_no_nul([accepted.data(), [f.filename for f in accepted.files.values()]])
    except WebhookRejected as exc:
        return bad_request(str(exc))
    except DifyError as exc:
        return bad_request(exc.message)
    end_user = await trigger_user(app.id)
    stored: list[FileValue] = []
    try:
        data = await _with_files(runtime.settings, app.id, end_user.id, accepted, stored)
        inputs = {
            "webhook_data": data,
            "webhook_headers": data["headers"],
            "webhook_query_params": data["query_params"],
            "webhook_body": data["body"],
        }
        run = runs.prepare(runtime, app, version, end_user, trigger.node_id, inputs, "webhook")
        await create_run(run.row, log=False)
    except BaseException:
        await _discard(runtime.settings, stored)
        raise
    await runs.start(runtime, run)
    status, body = configured_response(node.config)
    return WebhookAnswer(status, body, run.row.id)


async def _with_files(
    settings: Settings, app_id: str, end_user_id: str, call: WebhookCall, stored: list[FileValue]
) -> dict[str, Any]:
    """Dify's `webhook_data`, the call's files stored as tool files of the app."""
    save, _ = file_store(settings, app_id, end_user_id)

    async def kept(pending: PendingFile) -> FileValue:
        value: FileValue = await save(pending.content, pending.mime_type, pending.filename)
        stored.append(value)
        return value

    data = call.data()
    data["files"] = {name: await kept(pending) for name, pending in call.files.items()}
    body = data["body"]
    if isinstance(body.get("raw"), PendingFile):  # an octet-stream body is one file
        body["raw"] = await kept(body["raw"])
    return data


async def _discard(settings: Settings, files: list[FileValue]) -> None:
    ids = [f.related_id for f in files if f.related_id]
    if not ids:
        return
    try:
        async with session_scope() as session:
            keys = (
                await session.exec(
                    select(UploadFile.storage_key).where(col(UploadFile.id).in_(ids))
                )
            ).all()
            await session.exec(delete(UploadFile).where(col(UploadFile.id).in_(ids)))
        storage = get_storage(settings)
        for key in keys:
            await storage.delete(key)
    except Exception:
        logger.warning("could not remove the files of a refused webhook call", exc_info=True)
