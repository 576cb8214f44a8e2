"""URL percent-encoding as a builtin provider, `url_codec` (Kiln's own: no Dify or
marketplace provider of that kind was found in exports), shaped like base64_codec:
url_encoder (`plain_text`, spaces as `%20`, or as `+` with `plus_enabled`) and
url_decoder (`encoded_text`), UTF-8."""

from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from app.integrations.tools.base import ToolCall, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)


def _plus(args: dict[str, Any]) -> bool:
    return str(args.get("plus_enabled") or "").strip().lower() == "true"


async def encode(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    text = str(args.get("plain_text") or "")
    return ToolOutput(text=quote_plus(text) if _plus(args) else quote(text, safe=""))


async def decode(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    text = str(args.get("encoded_text") or "")
    return ToolOutput(text=unquote_plus(text) if _plus(args) else unquote(text))


_PLUS = param(
    "plus_enabled",
    "select",
    description='Whether spaces are "+" (form encoding), default to "false"',
    form="form",
    options=("true", "false"),
    default="false",
)

PROVIDER = BuiltinProviderDef(
    name="url_codec",
    label="URL Codec",
    tools=(
        BuiltinToolDef(
            "url_encoder",
            "Text ⮕ URL-encoded",
            "A tool to percent-encode text for use in a URL",
            (param("plain_text", required=True, description="Text to encode"), _PLUS),
            encode,
        ),
        BuiltinToolDef(
            "url_decoder",
            "URL-encoded ⮕ Text",
            "A tool to decode percent-encoded (URL-encoded) text",
            (param("encoded_text", required=True, description="URL-encoded text"), _PLUS),
            decode,
        ),
    ),
)
