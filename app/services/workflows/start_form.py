"""The start node's form: request inputs checked as Dify checks them (the classic form
rules, app/engine/inputs.py), file inputs resolved into file values."""

from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidParam
from app.engine.app_config import FormField
from app.engine.inputs import InputError, validate_inputs
from app.engine.variables.values import FileValue
from app.services.files.request_files import FileUploadConfig, RequestFile, resolve_one
from app.services.workflows.files import file_value


def start_variables(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    for node in (workflow.get("graph") or {}).get("nodes") or []:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and data.get("type") == "start":
            return [v for v in data.get("variables") or [] if isinstance(v, dict)]
    return []


def start_form(workflow: dict[str, Any]) -> list[FormField]:
    fields: list[FormField] = []
    for variable in start_variables(workflow):
        name = variable.get("variable")
        if not name:
            continue
        max_length = variable.get("max_length")
        fields.append(
            FormField(
                type=str(variable.get("type") or "text-input"),
                variable=str(name),
                label=str(variable.get("label") or name),
                required=bool(variable.get("required", False)),
                max_length=int(max_length) if isinstance(max_length, int | float) else None,
                options=[str(o) for o in variable.get("options") or []],
                default=variable.get("default"),
                raw=variable,
            )
        )
    return fields


def _file_config(field: FormField) -> FileUploadConfig:
    raw = field.raw
    methods = [str(m) for m in raw.get("allowed_file_upload_methods") or []]
    extensions = raw.get("allowed_file_extensions")
    return FileUploadConfig(
        allowed_types=[str(t) for t in raw.get("allowed_file_types") or []],
        allowed_extensions=[str(e) for e in extensions] if isinstance(extensions, list) else None,
        allowed_methods=methods,
        number_limits=0,
        image_limits=10**6,
        image_methods=methods,
    )


async def _files(
    settings: Settings, app_id: str, field: FormField, entries: list[Any]
) -> list[FileValue]:
    config = _file_config(field)
    found: list[RequestFile] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise InvalidParam(f"{field.variable} in input form must be a file")
        found.append(await resolve_one(app_id, config, entry))
    return [file_value(settings, f) for f in found]


async def check_inputs(
    settings: Settings, app_id: str, workflow: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    """Inputs as the start node hands them on: declared ones only, typed, files resolved."""
    form = start_form(workflow)
    try:
        cleaned = validate_inputs(form, inputs)
    except InputError as exc:
        raise InvalidParam(str(exc)) from None
    for field in form:
        value = cleaned.get(field.variable)
        if field.type == "file" and isinstance(value, dict):
            cleaned[field.variable] = (await _files(settings, app_id, field, [value]))[0]
        elif field.type == "file-list" and isinstance(value, list):
            cleaned[field.variable] = await _files(settings, app_id, field, value)
    return cleaned
