"""NUL characters in client text: PostgreSQL cannot store them (in text or JSON), so they
are refused before anything is written, on every database alike, with a 400; text from a
model has them removed."""

from typing import Any

from app.core.errors import InvalidParam

NUL_REFUSED = "Invalid parameter: text must not contain NUL (\\u0000) characters."


def check_no_nul(value: Any) -> None:
    """Raise `invalid_param` if a string, or any key or item of a dict or list (however
    deeply nested: no recursion), holds NUL."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidParam(NUL_REFUSED)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def without_nul(text: str) -> str:
    return text.replace("\x00", "") if "\x00" in text else text
