"""Dify's `{{variable}}` prompt templates (classic apps)."""

import re
from collections.abc import Mapping
from typing import Any

VARIABLE = re.compile(r"\{\{([a-zA-Z_][a-zA-Z0-9_]{0,29}|#histories#|#query#|#context#)\}\}")
_SPECIAL_TOKENS = re.compile(r"<\|.*?\|>")


def neutralise(value: str) -> str:
    """A substituted value never expands again: `{{x}}` inside it becomes `{x}`."""
    return VARIABLE.sub(r"{\1}", value)


def render(template: str, values: Mapping[str, Any]) -> str:
    """As Dify: a placeholder with no value is neutralised to `{name}`, not kept."""

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1), match.group(0))
        return neutralise("" if value is None else str(value))

    return _SPECIAL_TOKENS.sub("", VARIABLE.sub(substitute, template))


def template_values(inputs: Mapping[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in inputs.items()}
