"""What the model reads back from a tool call (its observation), in Dify's words: the tool's
text, its JSON, a sentence for each file it made; a failure becomes an observation too, so
the model may try again or answer without the tool."""

import json
from typing import Any, Literal

from app.integrations.tools.base import ToolOutput

# "classic": Dify's agent runners (api/core/tools/tool_engine.py, agent_invoke);
# "plugin": the langgenius agent strategy plugin the workflow agent node runs.
Style = Literal["classic", "plugin"]

IMAGE_SENT = (
    "image has been created and sent to user already, you do not need to create it, "
    "just tell the user to check it now."
)
FILE_SENT = "Generated file ... "


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def observation(output: ToolOutput, style: Style) -> str:
    """Classic (ToolEngine): the text, a sentence per image, then each JSON message not
    already in the text; plugin: the text, each JSON message as "tool response: …", a
    sentence per file made."""
    images = [IMAGE_SENT for f in output.files if f.mime_type.startswith("image/")]
    if style == "classic":
        parts = [output.text, *images] if output.text else images
        for item in output.json:
            text = _json_text(item)
            if text not in parts:
                parts.append(text)
        return "".join(parts)
    text = output.text + "".join(f"tool response: {_json_text(item)}." for item in output.json)
    for file in output.files:
        text += IMAGE_SENT if file.mime_type.startswith("image/") else FILE_SENT
    return text


def missing_tool(name: str) -> str:
    return f"there is not a tool named {name}"


def tool_failed(message: str) -> str:
    """A tool that raised ToolError (its message is what the tool reports)."""
    return f"tool invoke error: {message}"


def tool_crashed(error: Exception, style: Style) -> str:
    """Anything else a tool raised: Dify's classic runner calls it an unknown error."""
    return f"unknown error: {error}" if style == "classic" else f"tool invoke error: {error}"


def bad_arguments(name: str, text: str) -> str:
    return (
        f"tool parameters validation error: tool {name} takes a JSON object of arguments, "
        f"got {text!r}, please check your tool parameters"
    )


def iteration_limit(limit: int, name: str) -> str:
    """The plugin strategies' answer to a tool call in their last round."""
    return (
        f"Maximum iteration limit ({limit}) reached. Cannot call tool '{name}'. "
        "Please consider increasing the iteration limit."
    )
