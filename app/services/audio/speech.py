"""Speech to text (`/audio-to-text`) and text to speech (`/text-to-audio`), as Dify's
AudioService does them: the app's feature switch, then the model gateway."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.core import errors
from app.engine.features import app_feature
from app.gateway.audio_types import SpeechAudio
from app.gateway.types import GatewayError
from app.models import App
from app.runtime import Runtime
from app.services.audio.errors import NoAudioUploaded, from_gateway
from app.services.audio.upload import read_audio_form
from app.services.conversations.message_access import owned_message
from app.services.end_users import lookup as end_users

logger = logging.getLogger("kiln.audio")


def _check_speech_to_text(app: App) -> None:
    if not app_feature(app.app_mode, app.dsl, "speech_to_text").get("enabled"):
        raise errors.InvalidParam("Speech to text is not enabled")


async def transcribe(
    runtime: Runtime, app: App, content_type: str, body: AsyncIterator[bytes]
) -> dict[str, str]:
    form = await read_audio_form(content_type, body, lambda: _check_speech_to_text(app))
    await end_users.get_or_create(app.id, form.fields.get("user"))
    if not form.file.content:
        raise NoAudioUploaded()
    try:
        text = await runtime.gateway.transcribe(form.file)
    except GatewayError as exc:
        logger.warning("speech to text failed for app %s: %s", app.id, exc)
        raise from_gateway(exc) from None
    return {"text": text}


@dataclass(slots=True)
class SpeechCommand:
    message_id: str | None
    text: str | None
    voice: str | None
    user: str | None


async def text_to_speech(runtime: Runtime, app: App, command: SpeechCommand) -> SpeechAudio | None:
    """The audio, its first chunk already read (so provider errors are HTTP errors);
    None where Dify answers `null` (the message has no answer yet). An unknown message is
    Dify's 404 "Message Not Exists." rather than Dify's `null`: the contract documents only
    audio for a 200, and generated clients break on `null` (README, deliberate differences)."""
    await end_users.get_or_create(app.id, command.user)
    if command.message_id:
        message = await owned_message(app.id, command.user, command.message_id)
        if message.is_running or not message.answer:  # a running answer is not one yet
            return None
        text = message.answer
    elif not command.text:
        raise errors.InvalidParam("Text is required")
    else:
        text = command.text
    feature = app_feature(app.app_mode, app.dsl, "text_to_speech")
    if not feature.get("enabled"):
        raise errors.InvalidParam("TTS is not enabled")
    voice = command.voice if command.voice is not None else feature.get("voice")
    try:
        audio = runtime.gateway.speech(text.strip(), str(voice) if voice else None)
        first = await anext(audio.chunks, b"")
    except GatewayError as exc:
        logger.warning("text to speech failed for app %s: %s", app.id, exc)
        raise from_gateway(exc, speech=True) from None
    return SpeechAudio(audio.media_type, _continue(first, audio.chunks))


async def _continue(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Headers are out by now: a later provider failure ends the body early (logged)."""
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    except GatewayError as exc:
        logger.warning("text to speech stream failed: %s", exc)
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()
