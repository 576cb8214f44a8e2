"""Structured output (`structured_output_enabled` with `structured_output.schema`): the
schema checked, the model asked for JSON (a `json_schema` response format where the
provider takes one, else Dify's instruction at the head of the system prompt), and the
reply read back as a JSON object valid for the schema, with Dify's messages."""

import json
import re
from typing import Any

from app.engine.nodes.base import NodeError
from app.engine.nodes.llm.reasoning import strip_think

SCHEMA_NAME = "llm_response"
# Dify's instruction for models without a native JSON-schema mode (`{{schema}}` is filled).
STRUCTURED_OUTPUT_PROMPT = """You’re a helpful AI assistant. You could answer questions and output in JSON format.
constraints:
    - You must output in JSON format.
    - Do not output boolean value, use string type instead.
    - Do not output integer or float value, use number type instead.
eg:
    Here is the JSON schema:
    {"additionalProperties": false, "properties": {"age": {"type": "number"}, "name": {"type": "string"}}, "required": ["name", "age"], "type": "object"}

    Here is the user's question:
    My name is John Doe and I am 30 years old.

    output:
    {"name": "John Doe", "age": 30}
Here is the JSON schema:
{{schema}}
"""  # noqa: E501
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


class OutputFailed(NodeError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "LLMNodeError")


def checked_schema(structured_output: Any) -> dict[str, Any]:
    """The JSON schema of the node, or Dify's error for one that cannot be used."""
    schema = structured_output.get("schema") if isinstance(structured_output, dict) else None
    if isinstance(schema, str):  # some exports keep the schema as JSON text
        try:
            schema = json.loads(schema)
        except ValueError:
            schema = None
    if not isinstance(schema, dict):
        raise OutputFailed(
            "Invalid structured output schema (stage=schema, path=$.schema): expected a JSON object"
        )
    from jsonschema import Draft7Validator, SchemaError  # imported when first needed

    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        raise OutputFailed(
            f"Invalid structured output schema (stage=schema, path={exc.json_path}): {exc.message}"
        ) from None
    return schema


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "schema": schema}}


def with_schema_prompt(
    messages: list[dict[str, Any]], schema: dict[str, Any]
) -> list[dict[str, Any]]:
    """Dify's prompt-based mode: one system message (the instruction, then the first
    system message's text) ahead of every other message."""
    instruction = STRUCTURED_OUTPUT_PROMPT.replace(
        "{{schema}}", json.dumps(schema, ensure_ascii=False)
    )
    first = next((m for m in messages if m.get("role") == "system"), None)
    content = first.get("content") if first is not None else None
    system = instruction + "\n\n" + content if isinstance(content, str) else instruction
    rest = [m for m in messages if m.get("role") != "system"]
    return [{"role": "system", "content": system}, *rest]


def _first_json(text: str) -> Any:
    """The first JSON object or array in the text (after any `<think>` block and code
    fence), or None."""
    text = _FENCE.sub("", strip_think(text).strip())
    decoder = json.JSONDecoder()
    for index, char in enumerate(text):
        if char in "{[":
            try:
                return decoder.raw_decode(text, index)[0]
            except ValueError:
                continue
    return None


def parse_reply(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The reply as a JSON object valid for the schema (a list gives its first object, as
    Dify's lenient reading does); otherwise the node fails."""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = _first_json(text)
    if isinstance(parsed, list):
        parsed = next((item for item in parsed if isinstance(item, dict)), {})
    if not isinstance(parsed, dict):
        raise OutputFailed(
            "Failed to parse structured output (stage=result, path=$): "
            f"Failed to parse structured output: {text}"
        )
    from jsonschema import Draft7Validator, ValidationError
    from referencing import Registry
    from referencing.exceptions import Unresolvable

    try:
        # An empty registry: a `$ref` to a URL is never fetched.
        Draft7Validator(schema, registry=Registry()).validate(parsed)
    except ValidationError as exc:
        raise OutputFailed(
            f"Structured output validation failed (stage=result, path={exc.json_path}): "
            f"{exc.message}"
        ) from None
    except Unresolvable:
        raise OutputFailed(
            "Structured output validation failed (stage=result, path=$): "
            "schema reference could not be resolved"
        ) from None
    return parsed
