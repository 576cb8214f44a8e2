"""A human-input node's DSL data (Dify's HumanInputNodeData): the form's markdown, its
fields, the action buttons (each one a branch handle) and the timeout."""

import re
from dataclasses import dataclass
from typing import Any

from app.engine.nodes.base import NodeConfigError

TIMEOUT_HANDLE = "__timeout"  # the branch taken when the form expires unanswered
ACTION_ID, ACTION_VALUE, RENDERED = "__action_id", "__action_value", "__rendered_content"
TEXT_TYPES = frozenset(("text_input", "paragraph"))
FIELD_TYPES = TEXT_TYPES | {"select"}
UNIT_SECONDS = {"hour": 3600, "day": 86400}
OUTPUT_PLACEHOLDER = re.compile(r"\{\{#\$output\.([a-zA-Z_][a-zA-Z0-9_]{0,29})#\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class FormField:
    name: str  # output_variable_name
    type: str  # text_input | paragraph | select
    raw: dict[str, Any]  # the DSL entry, shown to clients as it is
    default_selector: tuple[str, ...] | None = None
    options: tuple[str, ...] | None = None  # select: constant options
    options_selector: tuple[str, ...] | None = None  # select: options from a variable


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    title: str
    button_style: str = "default"

    def shown(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "button_style": self.button_style}


@dataclass(frozen=True, slots=True)
class FormConfig:
    form_content: str
    fields: tuple[FormField, ...]
    actions: tuple[Action, ...]
    timeout_seconds: int

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)


def _selector(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _field(entry: Any) -> FormField:
    if not isinstance(entry, dict):
        raise NodeConfigError("each form input must be a mapping")
    name = str(entry.get("output_variable_name") or "")
    kind = str(entry.get("type") or "paragraph")
    if not name:
        raise NodeConfigError("a form input has no output_variable_name")
    if kind not in FIELD_TYPES:
        raise NodeConfigError(f"form inputs of type {kind!r} are not supported by Kiln")
    default = entry.get("default")
    default_selector = None
    if isinstance(default, dict) and default.get("type") == "variable":
        default_selector = _selector(default.get("selector"))
    options = selector = None
    if kind == "select":
        source = entry.get("option_source")
        source = source if isinstance(source, dict) else {}
        if source.get("type") == "variable":
            selector = _selector(source.get("selector"))
        else:
            options = tuple(str(v) for v in source.get("value") or [])
    return FormField(name, kind, dict(entry), default_selector, options, selector)


def _action(entry: Any) -> Action:
    if not isinstance(entry, dict):
        raise NodeConfigError("each user action must be a mapping")
    action_id = str(entry.get("id") or "")
    if not _IDENTIFIER.match(action_id) or len(action_id) > 20:
        raise NodeConfigError(f"{action_id!r} is not a valid user action id")
    style = str(entry.get("button_style") or "default")
    return Action(action_id, str(entry.get("title") or action_id), style)


def parse_form(data: dict[str, Any]) -> FormConfig:
    fields = tuple(_field(e) for e in data.get("inputs") or [])
    actions = tuple(_action(e) for e in data.get("user_actions") or [])
    for label, names in (
        ("output_variable_name", [f.name for f in fields]),
        ("user action id", [a.id for a in actions]),
    ):
        if len(set(names)) != len(names):
            raise NodeConfigError(f"duplicated {label} in the form")
    timeout = data.get("timeout", 36)
    unit = str(data.get("timeout_unit") or "hour")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
        raise NodeConfigError("timeout must be a whole number of hours or days")
    if unit not in UNIT_SECONDS:
        raise NodeConfigError(f"unknown timeout_unit {unit!r}")
    content = data.get("form_content")
    return FormConfig(str(content or ""), fields, actions, timeout * UNIT_SECONDS[unit])
