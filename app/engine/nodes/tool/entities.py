"""A tool node's DSL data, parsed once: the tool's reference (`provider_type`,
`provider_id` — plugin tools export as `author/plugin/provider` —, `provider_name`,
`tool_name`), `tool_configurations` (plain values, or `{type, value}` in newer exports)
and `tool_parameters` `{name: {type: mixed|variable|constant, value}}`. Inputs whose value
is null are dropped, as Dify drops them."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.nodes.base import NodeConfigError
from app.integrations.tools.base import ToolRef

INPUT_KINDS = ("mixed", "variable", "constant")


@dataclass(frozen=True, slots=True)
class ToolInput:
    kind: str  # mixed | variable | constant
    value: Any  # a template (mixed), a selector (variable), a value (constant)

    @property
    def selector(self) -> tuple[str, ...]:
        return tuple(self.value)


@dataclass(frozen=True, slots=True)
class ToolNodeConfig:
    ref: ToolRef
    configurations: dict[str, ToolInput]
    parameters: dict[str, ToolInput]
    plugin_unique_identifier: str | None = None


def _text(data: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise NodeConfigError(f"tool node has no {key}")
        return ""
    if not isinstance(value, str):
        raise NodeConfigError(f"{key} must be text")
    return value


def _input(name: str, raw: Any) -> ToolInput:
    kind, value = raw.get("type"), raw.get("value")
    if kind not in INPUT_KINDS:
        raise NodeConfigError(f"tool parameter {name}: unknown input type {kind!r}")
    if kind == "mixed" and not isinstance(value, str):
        raise NodeConfigError(f"tool parameter {name}: value must be a string")
    if kind == "variable":
        if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
            raise NodeConfigError(f"tool parameter {name}: value must be a list of strings")
    return ToolInput(kind, value)


def _parameters(raw: Any) -> dict[str, ToolInput]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise NodeConfigError("tool_parameters must be a mapping")
    found: dict[str, ToolInput] = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping) or entry.get("value") is None:
            continue
        found[str(name)] = _input(str(name), entry)
    return found


def _configurations(raw: Any) -> dict[str, ToolInput]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise NodeConfigError("tool_configurations must be a mapping")
    found: dict[str, ToolInput] = {}
    for name, entry in raw.items():
        if isinstance(entry, Mapping) and entry.get("type") in INPUT_KINDS and "value" in entry:
            if entry.get("value") is not None:
                found[str(name)] = _input(str(name), entry)
        elif entry is not None:
            found[str(name)] = ToolInput("constant", entry)
    return found


def parse_config(data: Mapping[str, Any]) -> ToolNodeConfig:
    ref = ToolRef(
        provider_type=_text(data, "provider_type"),
        provider_id=_text(data, "provider_id"),
        tool_name=_text(data, "tool_name"),
        provider_name=_text(data, "provider_name", required=False),
    )
    identifier = data.get("plugin_unique_identifier")
    return ToolNodeConfig(
        ref=ref,
        configurations=_configurations(data.get("tool_configurations")),
        parameters=_parameters(data.get("tool_parameters")),
        plugin_unique_identifier=identifier if isinstance(identifier, str) else None,
    )
