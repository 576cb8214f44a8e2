"""A code node failure as Dify reports it: sandbox failures are `CodeExecutionError`s whose
text is the exception line (a Python traceback's last line, `ValueError: …`; V8's
`Error: …` line), output validation failures keep Dify's class names and messages."""

import re

from app.engine.nodes.code.outputs import CodeOutputError

CODE_EXECUTION_ERROR = "CodeExecutionError"
_V8_LOCATION = re.compile(r"^<anonymous>:\d+: (.+)$")  # the embedded V8's first line
_JS_ERROR = re.compile(r"^[A-Za-z_$][\w$.]*(?:Error|Exception)\b.*$")  # Node.js stderr


def exception_line(language: str, message: str) -> str:
    """The line that names the exception, for `error` and `error_message`; the graph
    fixtures' convention (the last non-empty stderr line of a Python program)."""
    lines = [line for line in message.splitlines() if line.strip()]
    if not lines:
        return message
    if language == "javascript":
        for line in lines:
            found = _V8_LOCATION.match(line)
            if found:
                return found.group(1).strip()
        named = [line.strip() for line in lines if _JS_ERROR.match(line.strip())]
        if named:
            return named[-1]
    return lines[-1].strip()


def output_error_type(exc: CodeOutputError) -> str:
    """Dify's class for a validation failure (CodeNodeError for undeclared keys)."""
    text = str(exc)
    if text.startswith("Depth limit"):
        return "DepthLimitError"
    if text == "Not all output parameters are validated.":
        return "CodeNodeError"
    return "OutputValidationError"
