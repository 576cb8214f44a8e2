"""Parse and check a Dify DSL export (versions 0.1.0 to 0.6.0) before anything is stored."""

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from app.core.app_mode import AppMode

CURRENT_DSL_VERSION = "0.6.0"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class DslError(ValueError):
    """The file cannot be imported; the message names the problem."""


@dataclass(frozen=True, slots=True)
class ParsedDsl:
    document: dict[str, Any]
    version: str
    mode: str
    name: str
    warnings: tuple[str, ...]


def _load(text: str) -> Any:
    # Wrapped exports are single-line JSON whose escapes PyYAML rejects; read JSON as JSON.
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DslError(f"Invalid YAML format: {exc}") from None


def _unwrap(content: Any) -> Any:
    """Some exports save the console's `{"data": "<yaml>"}` response verbatim."""
    if isinstance(content, dict) and set(content) == {"data"} and isinstance(content["data"], str):
        return _load(content["data"])
    return content


def _check_version(document: dict[str, Any]) -> tuple[str, list[str]]:
    if "version" not in document or document["version"] is None:
        return "0.1.0", ["No DSL version given; read as 0.1.0."]
    version = document["version"]
    if not isinstance(version, str):
        raise DslError(
            f"Invalid version type, expected str, got {type(version).__name__}: "
            f'quote the version, e.g. version: "{version}"'
        )
    match = _VERSION.match(version.strip())
    if not match:
        raise DslError(f"Invalid DSL version: {version!r}")
    parts = tuple(int(p) for p in match.groups())
    current = tuple(int(p) for p in CURRENT_DSL_VERSION.split("."))
    if parts > current:
        raise DslError(
            f"DSL version {version} is newer than the newest supported ({CURRENT_DSL_VERSION})"
        )
    warnings = [] if parts[:2] == current[:2] else [_older_version_note(version.strip())]
    return version.strip(), warnings


def _older_version_note(version: str) -> str:
    """Dify imports an older minor version with warnings; so does Kiln, and says what that
    means."""
    return (
        f"DSL version {version} is older than {CURRENT_DSL_VERSION}, the version Kiln reads; "
        "imported as Dify imports older exports: every version from 0.1.0 is read the same "
        "way, and fields added since take their defaults."
    )


def parse_dsl(text: str) -> ParsedDsl:
    content = _unwrap(_load(text))
    if not isinstance(content, dict):
        raise DslError("Invalid YAML format: content must be a mapping")
    version, warnings = _check_version(content)
    app = content.get("app")
    if not isinstance(app, dict):
        raise DslError("Missing app data in YAML content")
    mode = app.get("mode")
    if not mode:
        raise DslError("Missing app mode in YAML content (app.mode)")
    if mode not in tuple(AppMode):
        modes = ", ".join(AppMode)
        raise DslError(f"Invalid app mode: {mode!r}; expected one of {modes}")
    if AppMode(mode).is_graph:
        if not isinstance(content.get("workflow"), dict):
            raise DslError(f"Missing workflow data for {mode} app")
    elif not isinstance(content.get("model_config"), dict):
        raise DslError(f"Missing model_config for {mode} app")
    content["kind"] = "app"
    name = str(app.get("name") or "Untitled app")
    return ParsedDsl(content, version, mode, name, tuple(warnings))
