"""Reading the classifier's reply as Dify does (`parse_and_check_json_markdown`): the JSON
between the first opening marker found (a ```json / ``` / `` / ` fence, else the first
`{` or `[`) and the last closing one; a one-object list counts as that object. No block
at all, bad JSON, or another list fails with Dify's messages."""

import json
from typing import Any

_STARTS = ("```json", "```", "``", "`", "{", "[")
_ENDS = ("```", "``", "`", "}", "]")
NO_JSON_BLOCK = "could not find json block in the output."


class OutputParserError(ValueError):
    """Dify's error for a reply whose JSON cannot be used."""


def json_block(text: str) -> Any:
    text = text.strip()
    start = -1
    for marker in _STARTS:
        start = text.find(marker)
        if start != -1:
            if text[start] not in "{[":
                start += len(marker)
            break
    end = -1
    if start != -1:
        for marker in _ENDS:
            end = text.rfind(marker, start)
            if end != -1:
                if text[end] in "}]":
                    end += 1
                break
    if start == -1 or end == -1 or start >= end:
        raise ValueError(NO_JSON_BLOCK)
    return json.loads(text[start:end].strip())


def reply_object(text: str) -> dict[str, Any]:
    try:
        found = json_block(text)
    except json.JSONDecodeError as exc:
        raise OutputParserError(f"got invalid json object. error: {exc}") from None
    if isinstance(found, list):
        if len(found) == 1 and isinstance(found[0], dict):
            return found[0]
        raise OutputParserError(f"got invalid return object. obj:{found}")
    # Any other JSON value names no category: the first class is taken.
    return found if isinstance(found, dict) else {}
