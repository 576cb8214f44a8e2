"""Retry and error strategies as Dify applies them when a node fails: retry first
(`retry_config`), then `default-value` (its defaults plus the error) or `fail-branch`
(the `fail-branch` edge), else the run fails."""

import json
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import NodeError

STRATEGIES = ("default-value", "fail-branch")


def strategy_of(spec: NodeSpec) -> str | None:
    strategy = spec.data.get("error_strategy")
    return strategy if strategy in STRATEGIES else None


def retry_settings(spec: NodeSpec) -> tuple[int, float]:
    """(retries after the first attempt, seconds between attempts)."""
    config = spec.data.get("retry_config")
    if not isinstance(config, dict) or not config.get("retry_enabled"):
        return 0, 0.0
    retries = config.get("max_retries")
    interval = config.get("retry_interval")
    return (
        max(int(retries), 0) if isinstance(retries, int | float) else 0,
        max(float(interval), 0.0) / 1000 if isinstance(interval, int | float) else 0.0,
    )


def _default(kind: str, value: Any) -> Any:
    """A `default_value` entry's value: strings are parsed for non-string types (Dify)."""
    if not isinstance(value, str) or kind == "string":
        return value
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def error_outputs(spec: NodeSpec, strategy: str, exc: NodeError) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    if strategy == "default-value":
        for entry in spec.data.get("default_value") or []:
            if isinstance(entry, dict) and entry.get("key"):
                outputs[str(entry["key"])] = _default(str(entry.get("type")), entry.get("value"))
    outputs["error_message"] = exc.message
    outputs["error_type"] = exc.error_type
    return outputs
