"""Text embeddings: OpenAI-compatible providers over httpx, others through litellm, and an
offline hashed embedding for the `kiln` provider."""

import math
import re
import zlib
from typing import Any

import orjson

from app.gateway.litellm_backend import load_litellm
from app.gateway.openai_compat import post_json
from app.gateway.providers import ResolvedProvider
from app.gateway.redact import upstream_detail
from app.gateway.types import UpstreamError, UpstreamRateLimited

OFFLINE_DIMENSIONS = 256
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def offline_embed(text: str, dimensions: int = OFFLINE_DIMENSIONS) -> list[float]:
    """A deterministic bag of words plus character trigrams, hashed into `dimensions`
    buckets with a hashed sign, L2-normalised: similar wording → high cosine similarity."""
    vector = [0.0] * dimensions
    words = [w.lower() for w in _WORD.findall(text)]
    features: list[tuple[str, float]] = [(f"w:{w}", 1.0) for w in words]
    for word in words:
        padded = f"#{word}#"
        features += [(f"t:{padded[i : i + 3]}", 0.5) for i in range(max(len(padded) - 2, 1))]
    for feature, weight in features:
        digest = zlib.crc32(feature.encode())
        sign = 1.0 if digest & 0x80000000 else -1.0
        vector[digest % dimensions] += sign * weight
    return normalise(vector)


async def openai_embed(
    provider: ResolvedProvider, model: str, texts: list[str], timeout: float
) -> list[list[float]]:
    body = {"model": model, "input": texts, "encoding_format": "float"}
    resp = await post_json(provider, "/embeddings", body, timeout)
    try:
        data = orjson.loads(resp.content)["data"]
        ordered = sorted(data, key=lambda item: int(item.get("index", 0)))
        vectors = [[float(x) for x in item["embedding"]] for item in ordered]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise UpstreamError(f"[{provider.id}] Malformed embeddings response") from None
    if len(vectors) != len(texts):
        raise UpstreamError(f"[{provider.id}] Expected {len(texts)} embeddings")
    return vectors


async def litellm_embed(
    provider: ResolvedProvider, model: str, texts: list[str], timeout: float
) -> list[list[float]]:
    litellm = await load_litellm()
    kwargs: dict[str, Any] = {
        "model": f"{provider.spec.litellm_prefix}/{model}",
        "input": texts,
        "timeout": timeout,
    }
    if provider.api_key:
        kwargs["api_key"] = provider.api_key
    if provider.base_url:
        kwargs["api_base"] = provider.base_url
    try:
        response = await litellm.aembedding(**kwargs)
        items = sorted(response.data, key=lambda item: int(_get(item, "index") or 0))
        return [[float(x) for x in _get(item, "embedding")] for item in items]
    except Exception as exc:  # litellm raises many types; map by status
        status = getattr(exc, "status_code", None)
        detail = upstream_detail(f"{type(exc).__name__}: {exc}", (provider.api_key,), status)
        text = f"[{provider.id}] {detail}"
        if status == 429:
            raise UpstreamRateLimited(text) from None
        raise UpstreamError(text) from None


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)
