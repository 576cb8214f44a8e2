"""An OpenAPI tool's reply as tool output, as Dify's `ApiTool._invoke` turns it:

- HTTP 400 and above fail the call ("Request failed with status code N and <body>");
- `Content-Disposition: attachment` makes the body a file (its content type, or
  `application/octet-stream`);
- an empty body answers "Empty response from the tool, please check your parameters and
  try again.";
- a JSON content type whose body parses as a JSON object gives a JSON message and, for
  backward compatibility as in Dify, the body as text too; any other body is text."""

import json
import re

from app.integrations.tools.base import ToolError, ToolFile, ToolOutput
from app.net.http_node import HttpReply

EMPTY = "Empty response from the tool, please check your parameters and try again."
_ERROR_BODY_CHARS = 2000  # of a failed reply's body in the error message
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


def to_output(reply: HttpReply) -> ToolOutput:
    text = decode(reply)
    if reply.status_code >= 400:
        shown = text if len(text) <= _ERROR_BODY_CHARS else text[:_ERROR_BODY_CHARS] + "…"
        raise ToolError(f"Request failed with status code {reply.status_code} and {shown}")
    mime_type = reply.content_type.split(";", 1)[0].strip().lower()
    disposition = reply.headers.get("content-disposition", "").strip()
    if disposition.split(";", 1)[0].strip().lower() == "attachment":
        if not reply.content:
            return ToolOutput(text=EMPTY)
        found = _FILENAME.search(disposition)
        file = ToolFile(
            mime_type=mime_type or "application/octet-stream",
            filename=found.group(1).strip() if found else "",
            content=reply.content,
        )
        return ToolOutput(files=[file])
    if not reply.content:
        return ToolOutput(text=EMPTY)
    if "application/json" in reply.content_type.lower():
        try:
            parsed = json.loads(text)
        except ValueError:
            return ToolOutput(text=text)
        return ToolOutput(text=text, json=[parsed] if isinstance(parsed, dict) else [])
    return ToolOutput(text=text)


def decode(reply: HttpReply) -> str:
    """The body as text: its declared charset, else UTF-8 (bad bytes replaced)."""
    charset = "utf-8"
    for piece in reply.content_type.split(";")[1:]:
        key, _, value = piece.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return reply.content.decode(charset, "replace")
    except LookupError:
        return reply.content.decode("utf-8", "replace")
