"""NUL characters in client text: PostgreSQL cannot store them (in text or JSON), so they
are refused before anything is written, on every database alike, with a 400."""

from typing import Any

from app.core.errors import InvalidParam

NUL_REFUSED = "Invalid parameter: text must not contain NUL (\\u0000) characters."


def check_no_nul(value: Any) -> None:
    """Raise `invalid_param` if a string, or any key or item of a dict or list, holds NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidParam(NUL_REFUSED)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_no_nul(key)
            check_no_nul(item)
    elif isinstance(value, list):
        for item in value:
            check_no_nul(item)
