"""Runs a Python code node inside a confined child: the user's code defines
`main(**inputs)`, which must return a dict with string keys (Dify's contract)."""

import builtins
import linecache
import traceback
from typing import Any

CODE_FILENAME = "<code>"


class UserCodeError(Exception):
    """User code failed; the message is what the node shows (a traceback as Dify shows)."""


def format_exception(exc: BaseException) -> str:
    """The traceback from the first frame of the user's code on (the runner's own frames
    are left out); a syntax error shows the offending line and the caret."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != CODE_FILENAME:
        tb = tb.tb_next
    if tb is None:
        return "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


def run(code: str, inputs: dict[str, Any]) -> dict[str, Any]:
    linecache.cache[CODE_FILENAME] = (len(code), None, code.splitlines(True), CODE_FILENAME)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(code, CODE_FILENAME, "exec"), namespace)
        main = namespace.get("main")
        if not callable(main):
            raise UserCodeError("The code must define a function main(...)")
        result = main(**inputs)
    except UserCodeError:
        raise
    except BaseException as exc:  # noqa: BLE001 - any failure of user code is reported
        raise UserCodeError(format_exception(exc)) from None
    if not isinstance(result, dict):
        raise UserCodeError(f"main() must return a dict, got {type(result).__name__}")
    for key in result:
        if not isinstance(key, str):
            raise UserCodeError(f"main() must return a dict with string keys, got the key {key!r}")
    return result
