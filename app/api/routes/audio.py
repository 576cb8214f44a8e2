"""`POST /v1/audio-to-text` (multipart `file` + `user`) and `POST /v1/text-to-audio`."""

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response, StreamingResponse

from app.api.body import parse_model, read_json
from app.api.deps import AppDep, RuntimeDep
from app.services.audio import speech as audio

router = APIRouter(tags=["audio"])


class TextToAudioPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: str | None = None
    text: str | None = None
    voice: str | None = None
    streaming: bool | None = None  # accepted; Dify streams the audio either way
    user: str | int | None = None


@router.post("/audio-to-text")
async def audio_to_text(request: Request, app: AppDep, runtime: RuntimeDep) -> dict[str, str]:
    content_type = request.headers.get("content-type", "")
    return await audio.transcribe(runtime, app, content_type, request.stream())


@router.post("/text-to-audio")
async def text_to_audio(request: Request, app: AppDep, runtime: RuntimeDep) -> Response:
    payload = parse_model(TextToAudioPayload, await read_json(request))
    command = audio.SpeechCommand(
        message_id=payload.message_id,
        text=payload.text,
        voice=payload.voice,
        user=None if payload.user is None else str(payload.user),
    )
    speech = await audio.text_to_speech(runtime, app, command)
    if speech is None:
        return Response(b"null", media_type="application/json")
    return StreamingResponse(speech.chunks, media_type=speech.media_type)
