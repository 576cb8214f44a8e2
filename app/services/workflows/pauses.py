"""A run that paused at human-input nodes: its snapshot and one form per waiting node are
stored (any replica can resume it), the run row reads `paused`, and its stream ends with
Dify's `human_input_required` events and `workflow_paused`."""

import dataclasses
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select, update

from app.core.db import session_scope
from app.engine.events import Event
from app.engine.workflow.engine import WorkflowOutcome
from app.engine.workflow.events import WorkflowStream
from app.models import HumanInputForm, Message, WorkflowPause, WorkflowRun
from app.models.base import new_id, timestamp, utcnow
from app.runtime import Runtime
from app.services.generation.records import stored_answer

if TYPE_CHECKING:  # run_task imports this module
    from app.services.workflows.run_task import GraphTask

HUMAN_INPUT_REQUIRED = "human_input_required"
SHOWN = ("node_id", "node_title", "form_content", "inputs", "actions", "resolved_default_values")


def _form(task: "GraphTask", request: dict[str, Any]) -> tuple[HumanInputForm, dict[str, Any]]:
    expires = utcnow() + timedelta(seconds=int(request["timeout_seconds"]))
    form = HumanInputForm(
        id=new_id(),
        app_id=task.app_id,
        workflow_run_id=task.workflow.run_id,
        node_id=str(request["node_id"]),
        form_token=secrets.token_urlsafe(16),
        definition={key: request[key] for key in SHOWN},
        expiration_time=expires,
    )
    return form, reason_of(form)


def reason_of(form: HumanInputForm) -> dict[str, Any]:
    """Dify's pause reason for a form (also the data of `human_input_required`)."""
    shown = form.definition
    return {
        "TYPE": HUMAN_INPUT_REQUIRED,
        "form_id": form.id,
        **{key: shown.get(key) for key in SHOWN},
        # Kiln serves every form by its token (Dify: forms with WebApp delivery).
        "display_in_ui": True,
        "form_token": form.form_token,
        "expiration_time": timestamp(form.expiration_time),
    }


def pause_events(
    stream: WorkflowStream, reasons: list[dict[str, Any]], run: dict[str, Any]
) -> list[Event]:
    """`human_input_required` per form, then `workflow_paused`, which ends the stream."""
    events = [stream.human_input_required(reason) for reason in reasons]
    data = {
        "workflow_run_id": stream.workflow_run_id,
        "paused_nodes": [reason["node_id"] for reason in reasons],
        "outputs": {},
        "reasons": reasons,
        "status": "paused",
        **run,
    }
    events.append(stream.workflow_paused(data))
    return events


async def pause_run(runtime: Runtime, task: "GraphTask", outcome: WorkflowOutcome) -> list[Event]:
    del runtime  # the signature of the run's other endings
    made = [_form(task, request) for request in outcome.pauses]
    reasons = [reason for _, reason in made]
    totals = {
        "elapsed_time": outcome.elapsed,
        "total_tokens": outcome.total_tokens,
        "total_steps": outcome.total_steps,
    }
    run_id = task.workflow.run_id
    # The chat's earlier turns go with it: LLM memory is the same on resume.
    state = {
        **(outcome.snapshot or {}),
        "history": [dataclasses.asdict(turn) for turn in task.workflow.history],
    }
    async with session_scope() as session:
        earlier = (
            await session.exec(
                select(WorkflowPause).where(col(WorkflowPause.workflow_run_id) == run_id)
            )
        ).first()
        if earlier is None:
            session.add(
                WorkflowPause(
                    app_id=task.app_id, workflow_run_id=run_id, state=state, reasons=reasons
                )
            )
        else:  # a resumed run paused again (one pause row per run): it waits anew
            earlier.state, earlier.reasons = state, reasons
            earlier.created_at, earlier.resumed_at = utcnow(), None
            session.add(earlier)
        session.add_all([form for form, _ in made])
        await session.exec(
            update(WorkflowRun)
            .where(col(WorkflowRun.id) == run_id)
            .values(status="paused", exceptions_count=outcome.exceptions, **totals)
        )
        chat = task.stream.chat
        if chat is not None:  # the answer so far; the message ends when the run does
            values = {"answer": stored_answer(outcome.answer), "is_running": False}
            await session.exec(
                update(Message).where(col(Message.id) == chat.message_id).values(**values)
            )
    return pause_events(task.stream, reasons, {"created_at": task.created_at, **totals})
