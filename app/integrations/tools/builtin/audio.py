"""Dify's `audio` provider, its tts tool: the text spoken by the model gateway's
text-to-speech (KILN_TEXT_TO_SPEECH_MODEL: the operator chooses the model, not the export;
the export's `voice#<provider>#<model>` choice is used as the voice when present), answered
as Dify does: "Audio generated successfully" and the audio as a file."""

from typing import Any

from app.gateway.audio_types import MP3, WAV
from app.gateway.types import GatewayError
from app.integrations.tools.base import ToolCall, ToolError, ToolFile, ToolOutput
from app.integrations.tools.builtin.base import (
    BuiltinEnv,
    BuiltinProviderDef,
    BuiltinToolDef,
    param,
)

_EXTENSIONS = {MP3: ".mp3", WAV: ".wav"}


def _voice(args: dict[str, Any]) -> str | None:
    model = args.get("model")
    if isinstance(model, str) and "#" in model:
        chosen = args.get(f"voice#{model}")
        if chosen:
            return str(chosen)
    for key, value in args.items():
        if key.startswith("voice#") and value:
            return str(value)
    return None


async def tts(args: dict[str, Any], env: BuiltinEnv, call: ToolCall) -> ToolOutput:
    text = str(args.get("text") or "")
    if not text.strip():
        raise ToolError("text is required")
    if env.gateway is None:
        raise ToolError("text to speech needs the model gateway, which this process lacks")
    try:
        audio = env.gateway.speech(text, _voice(args))
        content = b"".join([chunk async for chunk in audio.chunks])
    except GatewayError as exc:
        raise ToolError(str(exc)) from None
    name = "speech" + _EXTENSIONS.get(audio.media_type, ".bin")
    return ToolOutput(
        text="Audio generated successfully",
        files=[ToolFile(mime_type=audio.media_type, filename=name, content=content)],
    )


PROVIDER = BuiltinProviderDef(
    name="audio",
    label="Audio",
    tools=(
        BuiltinToolDef(
            "tts",
            "Text To Speech",
            "Convert text to audio file.",
            (
                param("model", "select", form="form", description="provider#model (Dify)"),
                param("text", required=True, description="The text to be converted."),
            ),
            tts,
        ),
    ),
)
