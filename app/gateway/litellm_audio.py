"""Audio on every other provider through litellm (`atranscription`, `aspeech`), imported
lazily off the event loop like the chat path."""

from collections.abc import AsyncIterator
from typing import Any

from app.gateway.litellm_backend import load_litellm
from app.gateway.providers import ResolvedProvider
from app.gateway.redact import upstream_detail
from app.gateway.types import GatewayError, UpstreamError, UpstreamRateLimited

CHUNK_BYTES = 4096


def _kwargs(provider: ResolvedProvider, model: str, timeout: float) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": f"{provider.spec.litellm_prefix}/{model}",
        "timeout": timeout,
    }
    if provider.api_key:
        kwargs["api_key"] = provider.api_key
    if provider.base_url:
        kwargs["api_base"] = provider.base_url
    return kwargs


def _mapped(provider: ResolvedProvider, exc: Exception) -> GatewayError:
    status = getattr(exc, "status_code", None)
    detail = upstream_detail(f"{type(exc).__name__}: {exc}", (provider.api_key,), status)
    text = f"[{provider.id}] {detail}"
    if status == 429 or type(exc).__name__ == "RateLimitError":
        return UpstreamRateLimited(text)
    return UpstreamError(text)


async def transcribe(
    provider: ResolvedProvider,
    model: str,
    content: bytes,
    filename: str,
    timeout: float,
) -> str:
    litellm = await load_litellm()
    kwargs = _kwargs(provider, model, timeout)
    try:
        response = await litellm.atranscription(file=(filename, content), **kwargs)
    except Exception as exc:  # litellm raises many types; map by status
        raise _mapped(provider, exc) from None
    return str(getattr(response, "text", "") or "")


async def speech(
    provider: ResolvedProvider, model: str, text: str, voice: str, timeout: float
) -> AsyncIterator[bytes]:
    litellm = await load_litellm()
    try:
        kwargs = _kwargs(provider, model, timeout)
        response = await litellm.aspeech(input=text, voice=voice, response_format="mp3", **kwargs)
        data = bytes(response.content)
    except Exception as exc:  # litellm raises many types; map by status
        raise _mapped(provider, exc) from None
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]
