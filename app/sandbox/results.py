"""Turns what came back from a sandbox (a local child's answer, a dify-sandbox result)
into a checked Python value or a `SandboxError`, and applies Dify's post-processing of
code results (strings in scientific notation become floats)."""

import json
import re
from typing import Any

from app.sandbox.errors import (
    SandboxError,
    SandboxOutputTooLargeError,
    SandboxTimeoutError,
    SandboxUnsupportedError,
)

_SCIENTIFIC = re.compile(r"^-?\d+(?:\.\d+)?[eE][+-]?\d+$")
REFUSED = "Code execution refused: the sandbox cannot be confined on this machine"


def convert_scientific_notation(value: Any) -> Any:
    """As Dify does after parsing a code result: a string such as "1.5e-07" becomes the
    float it spells, in dicts and lists at any depth."""
    if isinstance(value, str):
        return float(value) if _SCIENTIFIC.match(value) else value
    if isinstance(value, dict):
        return {key: convert_scientific_notation(item) for key, item in value.items()}
    if isinstance(value, list):
        return [convert_scientific_notation(item) for item in value]
    return value


def code_result(value: Any) -> dict[str, Any]:
    """A code node's result: a dict with string keys, post-processed as Dify does."""
    if not isinstance(value, dict):
        raise SandboxError(f"main() must return a dict, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise SandboxError("main() must return a dict with string keys")
    converted: dict[str, Any] = convert_scientific_notation(value)
    return converted


def worker_reply(
    control: dict[str, Any], data: bytes, *, timeout: float, max_output_bytes: int
) -> dict[str, Any]:
    """The child's answer object from a worker reply, or the matching error."""
    status = control.get("status")
    timed_out = f"Code execution timed out after {timeout:g} seconds"
    if status == "timeout":
        raise SandboxTimeoutError(timed_out)
    if status == "cpu":
        raise SandboxTimeoutError("Code execution exceeded its CPU time limit")
    if status == "too_large":
        raise SandboxOutputTooLargeError(
            f"The code's result is larger than {max_output_bytes} bytes"
        )
    if status == "crashed":
        signal = control.get("signal") or "no answer"
        raise SandboxError(f"The code sandbox process died ({signal}); out of memory?")
    if status == "error":
        raise SandboxError(f"The code sandbox failed: {control.get('error')}")
    if status != "done":
        raise SandboxError(f"The code sandbox answered an unknown status {status!r}")
    try:
        answer = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise SandboxError("The code sandbox returned an invalid answer") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
        raise SandboxError("The code sandbox returned an invalid answer")
    if not answer["ok"]:
        message = answer.get("error")
        message = message if isinstance(message, str) else "unknown error"
        kind = answer.get("kind")
        if kind == "confinement":
            raise SandboxUnsupportedError(f"{REFUSED} ({message})")
        if kind == "too_large":
            raise SandboxOutputTooLargeError(message)
        if kind == "timeout":
            raise SandboxTimeoutError(timed_out)
        raise SandboxError(message)
    return answer
