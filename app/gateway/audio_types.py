"""What the gateway's audio calls take and give back: speech-to-text and text-to-speech."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.gateway.types import GatewayError

MP3 = "audio/mpeg"
WAV = "audio/wav"
# OpenAI's speech endpoint takes at most 4096 characters; stay below it (as Dify does).
SPEECH_TEXT_LIMIT = 4000
_SENTENCE_END = re.compile(r"(?<=[。.!?！？\n])")


@dataclass(frozen=True, slots=True)
class AudioModel:
    provider: str
    model: str

    @classmethod
    def parse(cls, value: str) -> "AudioModel | None":
        """`provider/model` (the first slash splits); "" or "none" → no model."""
        value = value.strip()
        if not value or value.lower() == "none":
            return None
        provider, _, model = value.partition("/")
        return cls(provider, model or provider)


@dataclass(frozen=True, slots=True)
class AudioUpload:
    content: bytes
    filename: str  # with an extension the provider recognises
    content_type: str


@dataclass(slots=True)
class SpeechAudio:
    """Audio bytes as the provider streams them; errors surface on the first read."""

    media_type: str
    chunks: AsyncIterator[bytes]


class SpeechModelMissing(GatewayError):
    """No speech-to-text model is configured (Dify: no default speech2text model)."""


def split_for_speech(text: str, limit: int = SPEECH_TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut after sentence ends where possible."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:limit])
            sentence = sentence[limit:]
        if len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current.strip():
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]
