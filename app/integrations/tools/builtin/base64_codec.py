"""The `base64_codec` marketplace provider (bowenliang123/base64_codec/base64_codec) that
exports use for Base64: base64_encoder (`plain_text`) and base64_decoder (`encoded_text`),
each with `urlsafe_enabled` ("true"/"false"); UTF-8 text in and out. Its file and image
variants are not native in Kiln."""

import base64
import binascii
from typing import Any

from app.integrations.tools.base import ToolCall, ToolError, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)


def _urlsafe(args: dict[str, Any]) -> bool:
    return str(args.get("urlsafe_enabled") or "").strip().lower() == "true"


async def encode(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    text = args.get("plain_text") or ""
    if not text:
        return ToolOutput(text="")
    raw = str(text).encode("utf-8")
    encoded = base64.urlsafe_b64encode(raw) if _urlsafe(args) else base64.b64encode(raw)
    return ToolOutput(text=encoded.decode("ascii"))


async def decode(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    text = args.get("encoded_text") or ""
    if not text:
        return ToolOutput(text="")
    raw = str(text).encode("utf-8")
    try:
        decoded = base64.urlsafe_b64decode(raw) if _urlsafe(args) else base64.b64decode(raw)
        return ToolOutput(text=decoded.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ToolError(f"Failed to decode Base64 text input, Exception: {exc}") from None


_URLSAFE = param(
    "urlsafe_enabled",
    "select",
    required=True,
    description='Whether to enable URL safe alphabet, default to "false"',
    form="form",
    options=("true", "false"),
    default="false",
)

PROVIDER = BuiltinProviderDef(
    name="base64_codec",
    label="Base64 Codec",
    aliases=("base64",),
    tools=(
        BuiltinToolDef(
            "base64_encoder",
            "Text ⮕ Base64",
            "A tool to encode text to Base64-encoded string",
            (param("plain_text", required=True, description="Text to encode"), _URLSAFE),
            encode,
        ),
        BuiltinToolDef(
            "base64_decoder",
            "Base64 ⮕ Text",
            "A tool to decode Base64-encoded text",
            (
                param("encoded_text", required=True, description="Base64-encoded text"),
                _URLSAFE,
            ),
            decode,
        ),
    ),
)
