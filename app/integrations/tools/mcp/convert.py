"""MCP tools in Dify's shapes: an MCP tool's `inputSchema` as tool parameters
(`ToolTransformService.convert_mcp_schema_to_parameter`), a call's arguments as sent
(`MCPTool._handle_none_parameter`) and its result as tool output (`MCPTool._invoke`):

- parameters: each top-level property, typed by its `type` (the first of a list; integer
  and float are numbers; missing is string), required as the schema says;
- arguments: None and blank strings are dropped;
- text content that looks like JSON becomes JSON messages (an object one message, a list
  of objects one per object); any other text is text;
- images and audio (base64) become files, embedded text resources text, embedded blobs
  files (`application/octet-stream` without a type); resource links are skipped, as Dify
  logs and skips them;
- `structuredContent` becomes one variable per key when the tool declares an
  `outputSchema`, else one JSON message (unless the text content already carried it);
- a result with `isError` fails the call with its text."""

import base64
import binascii
import json
import logging
from typing import Any

from mcp.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    TextContent,
    TextResourceContents,
    Tool,
)

from app.integrations.tools.base import ToolError, ToolFile, ToolOutput, ToolParameter

logger = logging.getLogger(__name__)
_TYPES = {"integer": "number", "float": "number", "number": "number", "boolean": "boolean"}
_TYPES |= {"array": "array", "object": "object", "string": "string"}


def parameters(tool: Tool) -> tuple[ToolParameter, ...]:
    schema = tool.inputSchema or {}
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict):
        return ()
    required = schema.get("required") or []
    found: list[ToolParameter] = []
    for name, prop in properties.items():
        prop = prop if isinstance(prop, dict) else {}
        kind = prop.get("type", "string")
        if isinstance(kind, list):
            kind = kind[0] if kind else "string"
        enum = prop.get("enum")
        found.append(
            ToolParameter(
                name=str(name),
                type=_TYPES.get(str(kind), "string"),
                required=name in required,
                description=str(prop.get("description") or ""),
                form="llm",
                options=tuple(str(o) for o in enum) if isinstance(enum, list) else (),
                default=prop.get("default"),
            )
        )
    return tuple(found)


def arguments(given: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in given.items()
        if value is not None and not (isinstance(value, str) and not value.strip())
    }


def to_output(tool: Tool, result: CallToolResult) -> ToolOutput:
    if result.isError:
        texts = [c.text for c in result.content if isinstance(c, TextContent)]
        raise ToolError(f"MCP tool {tool.name} failed: {' '.join(texts) or 'no details given'}")
    output = ToolOutput()
    for content in result.content:
        if isinstance(content, TextContent):
            _text(output, content.text)
        elif isinstance(content, ImageContent | AudioContent):
            output.files.append(ToolFile(content.mimeType, content=_decoded(content.data)))
        elif isinstance(content, EmbeddedResource):
            resource = content.resource
            if isinstance(resource, TextResourceContents):
                output.text += resource.text
            elif isinstance(resource, BlobResourceContents):
                mime_type = resource.mimeType or "application/octet-stream"
                output.files.append(ToolFile(mime_type, content=_decoded(resource.blob)))
        else:
            logger.warning("MCP tool %s: unsupported content %s skipped", tool.name, content.type)
    structured = result.structuredContent
    if structured:
        if tool.outputSchema:
            output.variables.update(structured)
        elif structured not in output.json:
            output.json.append(structured)
    return output


def _text(output: ToolOutput, text: str) -> None:
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            output.json.append(parsed)
            return
        if isinstance(parsed, list) and all(isinstance(item, dict) for item in parsed):
            output.json.extend(parsed)
            return
    output.text += text


def _decoded(data: str) -> bytes:
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError):
        raise ToolError("the MCP server sent content that is not valid base64") from None
