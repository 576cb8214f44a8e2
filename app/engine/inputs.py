"""Validate request `inputs` against the app's `user_input_form`, with Dify's messages."""

from typing import Any

from app.engine.app_config import FormField

_TEXT_TYPES = ("text-input", "paragraph", "select")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class InputError(ValueError):
    pass


def _number(field: FormField, value: Any) -> int | float | None:
    if isinstance(value, bool):
        raise InputError(f"{field.variable} in input form must be a valid number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            raise InputError(f"{field.variable} in input form must be a valid number") from None
    raise InputError(f"{field.variable} in input form must be a valid number")


def _checkbox(field: FormField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError(f"{field.variable} in input form must be a boolean")


def _text(field: FormField, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"(type '{field.type}') {field.variable} in input form must be a string")
    if field.type == "select" and field.options and value not in field.options:
        raise InputError(
            f"{field.variable} in input form must be one of the following: {field.options}"
        )
    if field.type != "select" and field.max_length and len(value) > field.max_length:
        raise InputError(
            f"{field.variable} in input form must be less than {field.max_length} characters"
        )
    return value.replace("\x00", "")  # Dify: checked as sent, then NUL removed


def _file_list(field: FormField, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{field.variable} in input form must be a list of files")
    if field.max_length and len(value) > field.max_length:
        raise InputError(
            f"{field.variable} in input form must be less than {field.max_length} files"
        )
    return value


def _coerce(field: FormField, value: Any) -> Any:
    if field.type in _TEXT_TYPES:
        return _text(field, value)
    if field.type == "number":
        return _number(field, value)
    if field.type == "checkbox":
        return _checkbox(field, value)
    if field.type == "json_object":
        if value and not isinstance(value, dict):  # Dify lets a falsy value through
            raise InputError(f"{field.variable} in input form must be a dict")
        return value
    if field.type == "file":
        if not isinstance(value, dict):
            raise InputError(f"{field.variable} in input form must be a file")
        return value
    if field.type == "file-list":
        return _file_list(field, value)
    if isinstance(value, str):
        return value.replace("\x00", "")
    return value


def _is_empty(field: FormField, value: Any) -> bool:
    # An empty string is the frontend's "no file" for a file input (Dify).
    return value is None or (field.type in ("file", "file-list") and value == "")


def validate_inputs(form: list[FormField], inputs: dict[str, Any]) -> dict[str, Any]:
    """Keep only declared variables; fill defaults; raise InputError with Dify's text."""
    cleaned: dict[str, Any] = {}
    for field in form:
        if field.type == "external_data_tool":
            continue
        value = inputs.get(field.variable)
        if _is_empty(field, value):
            if field.required:
                raise InputError(f"{field.variable} is required in input form")
            value = field.default
            if value in (None, ""):
                cleaned[field.variable] = None if field.type not in _TEXT_TYPES else value
                continue
        cleaned[field.variable] = _coerce(field, value)
    return cleaned
