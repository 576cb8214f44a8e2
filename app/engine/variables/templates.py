"""Dify's `{{#node_id.var#}}` templates: split once (cached), rendered against a pool.

An unresolved placeholder renders as its bare selector text (`node.var`), as Dify's
`convert_template` does; a value that exists but is None renders empty."""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.values import to_markdown, to_text

SELECTOR_PATTERN = re.compile(
    r"\{\{(#[a-zA-Z0-9_]{1,50}(?:\.[a-zA-Z_][a-zA-Z0-9_]{0,29}){1,10}#)\}\}"
)

Part = str | tuple[str, ...]  # literal text, or a selector


@lru_cache(maxsize=4096)
def parse_template(template: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    position = 0
    for match in SELECTOR_PATTERN.finditer(template):
        if match.start() > position:
            parts.append(template[position : match.start()])
        parts.append(tuple(match.group(1)[1:-1].split(".")))
        position = match.end()
    if position < len(template):
        parts.append(template[position:])
    return tuple(parts)


def selectors_in(template: str) -> list[tuple[str, ...]]:
    return [part for part in parse_template(template) if isinstance(part, tuple)]


def render(template: str, pool: VariablePool, as_text: Callable[[Any], str] = to_text) -> str:
    out: list[str] = []
    for part in parse_template(template):
        if isinstance(part, str):
            out.append(part)
            continue
        value = pool.lookup(part)
        out.append(".".join(part) if value is MISSING else as_text(value))
    return "".join(out)


def render_markdown(template: str, pool: VariablePool) -> str:
    return render(template, pool, to_markdown)
