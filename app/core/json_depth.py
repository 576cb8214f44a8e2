"""How deeply a client's JSON may nest. Whatever Kiln does with a kept value (`str()`, the
JSON column, orjson, FastAPI's encoder) recurses once per level, and some stop far short
of orjson's parsing limit (orjson writes at most 255 levels, `str()` fails near 1,000), so
kept values are checked here, without recursion, before anything uses them."""

from typing import Any

from app.core.errors import InvalidParam

MAX_JSON_DEPTH = 100  # levels, the body object itself being the first
TOO_DEEP = f"Invalid parameter: JSON nested deeper than {MAX_JSON_DEPTH} levels."


def check_depth(value: Any, levels_above: int = 0) -> None:
    """Raise `invalid_param` when `value`, itself `levels_above` levels inside the body,
    takes the nesting past MAX_JSON_DEPTH."""
    pending: list[tuple[Any, int]] = [(value, levels_above)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= MAX_JSON_DEPTH:
            raise InvalidParam(TOO_DEEP)
        pending.extend((child, depth + 1) for child in children)
