"""OpenAI-compatible moderation: POST {base}/moderations, flagged when any result is."""

import orjson

from app.gateway.openai_compat import post_json
from app.gateway.providers import ResolvedProvider
from app.gateway.types import UpstreamError


async def openai_moderate(
    provider: ResolvedProvider, model: str, text: str, timeout: float
) -> bool:
    resp = await post_json(provider, "/moderations", {"model": model, "input": text}, timeout)
    try:
        results = orjson.loads(resp.content).get("results") or []
    except (orjson.JSONDecodeError, AttributeError):
        raise UpstreamError(f"[{provider.id}] Malformed moderation answer") from None
    return any(isinstance(r, dict) and r.get("flagged") for r in results)
