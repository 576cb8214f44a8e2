"""Audio on OpenAI-compatible providers, straight over httpx (shares the fast path's client):
`POST {base}/audio/transcriptions` (multipart) and `POST {base}/audio/speech` (streamed)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from app.gateway.audio_types import AudioUpload
from app.gateway.openai_compat import (
    auth_headers,
    connection_error,
    endpoint,
    get_client,
    upstream_failure,
)
from app.gateway.providers import ResolvedProvider
from app.gateway.types import UpstreamError


async def transcribe(
    provider: ResolvedProvider, model: str, upload: AudioUpload, timeout: float
) -> str:
    data: dict[str, Any] = {"model": model}
    files = {"file": (upload.filename, upload.content, upload.content_type)}
    client = get_client(timeout)
    try:
        resp = await client.post(
            endpoint(provider, "/audio/transcriptions"),
            data=data,
            files=files,
            headers=auth_headers(provider, None),
        )
    except httpx.HTTPError as exc:
        raise connection_error(provider, exc) from None
    if resp.status_code != 200:
        raise upstream_failure(provider, resp.status_code, resp.content)
    try:
        payload = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"[{provider.id}] Malformed transcription response") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise UpstreamError(f"[{provider.id}] Malformed transcription response")
    return str(payload["text"])


async def speech(
    provider: ResolvedProvider, model: str, text: str, voice: str, timeout: float
) -> AsyncIterator[bytes]:
    body = {"model": model, "input": text, "voice": voice, "response_format": "mp3"}
    headers = auth_headers(provider)
    client = get_client(timeout)
    try:
        async with client.stream(
            "POST", endpoint(provider, "/audio/speech"), content=orjson.dumps(body), headers=headers
        ) as resp:
            if resp.status_code != 200:
                raise upstream_failure(provider, resp.status_code, await resp.aread())
            async for chunk in resp.aiter_bytes():
                if chunk:
                    yield chunk
    except httpx.HTTPError as exc:
        raise connection_error(provider, exc) from None
