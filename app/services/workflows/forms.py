"""Human input forms by token (`GET/POST /v1/form/human_input/{form_token}`): read a
waiting form, or submit it, which resumes its run (here, or on whichever replica claims
it), with Dify's checks and errors."""

import json
from typing import Any

from sqlmodel import col, select, update

from app.core import errors
from app.core.db import rows_changed, session_scope
from app.models import App, HumanInputForm, WorkflowPause
from app.models.base import timestamp, utcnow
from app.runtime import Runtime
from app.services.end_users import lookup as end_users
from app.services.workflows.resume import resume_run


async def _form(app: App, token: str) -> HumanInputForm:
    async with session_scope(read_only=True) as session:
        form = (
            await session.exec(
                select(HumanInputForm).where(col(HumanInputForm.form_token) == token)
            )
        ).first()
    if form is None or form.app_id != app.id:
        raise errors.NotFound("Form not found")
    return form


def _ensure_active(form: HumanInputForm) -> None:
    if form.status == "submitted":
        raise errors.FormSubmitted(
            f"This form has already been submitted by another user, form_id={form.id}"
        )
    expired = (timestamp(form.expiration_time) or 0) <= (timestamp(utcnow()) or 0)
    if form.status in ("timeout", "expired") or expired:
        raise errors.FormExpired(f"This form has expired, form_id={form.id}")


def _strings(values: dict[str, Any]) -> dict[str, str]:
    """Default values as Dify's form clients get them: every one a string."""
    return {
        key: ""
        if value is None
        else json.dumps(value, ensure_ascii=False)
        if isinstance(value, dict | list)
        else str(value)
        for key, value in values.items()
    }


async def get_form(app: App, token: str) -> dict[str, Any]:
    form = await _form(app, token)
    _ensure_active(form)
    shown = form.definition
    return {
        "form_content": shown.get("form_content", ""),
        "inputs": shown.get("inputs", []),
        "resolved_default_values": _strings(dict(shown.get("resolved_default_values") or {})),
        "user_actions": shown.get("actions", []),
        "expiration_time": timestamp(form.expiration_time),
    }


def _check(form: HumanInputForm, action: str, inputs: dict[str, Any]) -> None:
    shown = form.definition
    if action not in {a.get("id") for a in shown.get("actions") or []}:
        raise errors.InvalidFormData(f"Invalid action: {action}")
    names = [str(f.get("output_variable_name")) for f in shown.get("inputs") or []]
    missing = [name for name in names if name not in inputs]
    if missing:
        raise errors.InvalidFormData(f"Missing required inputs: {', '.join(missing)}")
    for field in shown.get("inputs") or []:
        if field.get("type") == "select":
            _check_select(field, inputs[str(field.get("output_variable_name"))])


def _check_select(field: dict[str, Any], value: Any) -> None:
    """Dify's check: a string, among the options when they are constant (options from a
    variable are not checked, as in Dify)."""
    name = field.get("output_variable_name")
    if not isinstance(value, str):
        raise errors.InvalidFormData(f"Invalid value for select input '{name}': expected string")
    source = field.get("option_source") or {}
    if source.get("type") != "variable" and value not in (source.get("value") or []):
        raise errors.InvalidFormData(f"Invalid value for select input '{name}': {value}")


async def submit_form(
    runtime: Runtime, app: App, token: str, action: str, inputs: dict[str, Any], user: str
) -> None:
    form = await _form(app, token)
    _ensure_active(form)
    _check(form, action, inputs)
    end_user = await end_users.get_or_create(app.id, user)
    names = {str(f.get("output_variable_name")) for f in form.definition.get("inputs") or []}
    data = {key: value for key, value in inputs.items() if key in names}
    async with session_scope() as session:
        # Only a waiting form is taken: of two submissions at once, one wins.
        taken = await session.exec(
            update(HumanInputForm)
            .where(col(HumanInputForm.id) == form.id)
            .where(col(HumanInputForm.status) == "waiting")
            .values(
                status="submitted",
                selected_action_id=action,
                submitted_data=data,
                submitted_by=end_user.id,
                submitted_at=utcnow(),
            )
        )
        if rows_changed(taken) != 1:
            raise errors.FormSubmitted(
                f"This form has already been submitted by another user, form_id={form.id}"
            )
    await resume_run(runtime, form.workflow_run_id)


async def close_forms(run_id: str) -> None:
    """A paused run was stopped: its forms expire and it will not resume."""
    async with session_scope() as session:
        await session.exec(
            update(HumanInputForm)
            .where(col(HumanInputForm.workflow_run_id) == run_id)
            .where(col(HumanInputForm.status) == "waiting")
            .values(status="expired")
        )
        await session.exec(
            update(WorkflowPause)
            .where(col(WorkflowPause.workflow_run_id) == run_id)
            .values(resumed_at=utcnow())
        )
