"""Offline stand-ins for audio models (`provider: kiln`) — for development, not speech.

- `kiln/echo-stt` does not recognise speech: its "transcript" only describes the upload
  (size, type and a digest prefix), deterministically, so clients and tests can run offline.
- `kiln/silent-tts` does not speak: it returns a real, decodable WAV file of silence
  whose length grows with the text (50 ms a word, 0.1 s to 10 s).
"""

import hashlib
import io
import wave
from collections.abc import AsyncIterator

from app.gateway.audio_types import WAV, AudioUpload, SpeechAudio
from app.gateway.types import UpstreamError

STT_MODELS = ("echo-stt",)
TTS_MODELS = ("silent-tts",)
SAMPLE_RATE = 8000
CHUNK_BYTES = 1024


def transcribe(model: str, upload: AudioUpload) -> str:
    if model not in STT_MODELS:
        raise UpstreamError(f"[kiln] Model {model} does not exist; use one of {STT_MODELS}")
    digest = hashlib.sha256(upload.content).hexdigest()[:12]
    return f"[kiln echo-stt] {len(upload.content)} bytes of {upload.content_type}, sha256 {digest}"


def silent_wav(text: str) -> bytes:
    words = len(text.split())
    seconds = min(max(words * 0.05, 0.1), 10.0)
    frames = int(SAMPLE_RATE * seconds)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"\x00\x00" * frames)
    return buffer.getvalue()


def speech(model: str, text: str) -> SpeechAudio:
    if model not in TTS_MODELS:
        raise UpstreamError(f"[kiln] Model {model} does not exist; use one of {TTS_MODELS}")
    data = silent_wav(text)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK_BYTES):
            yield data[start : start + CHUNK_BYTES]

    return SpeechAudio(WAV, chunks())
