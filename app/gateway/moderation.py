"""OpenAI-compatible moderation: POST {base}/moderations, flagged when any result is."""

import httpx
import orjson

from app.gateway.openai_compat import get_client, upstream_failure
from app.gateway.providers import ResolvedProvider
from app.gateway.redact import redact
from app.gateway.types import UpstreamError


async def openai_moderate(
    provider: ResolvedProvider, model: str, text: str, timeout: float
) -> bool:
    headers = {"Content-Type": "application/json"}
    if provider.api_key:
        headers["Authorization"] = f"Bearer {provider.api_key}"
    url = (provider.base_url or "").rstrip("/") + "/moderations"
    body = orjson.dumps({"model": model, "input": text})
    try:
        resp = await get_client(timeout).post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise UpstreamError(
            redact(f"[{provider.id}] Connection error: {type(exc).__name__}", (provider.api_key,))
        ) from None
    if resp.status_code != 200:
        raise upstream_failure(provider, resp.status_code, resp.content)
    try:
        results = orjson.loads(resp.content).get("results") or []
    except (orjson.JSONDecodeError, AttributeError):
        raise UpstreamError(f"[{provider.id}] Malformed moderation answer") from None
    return any(isinstance(r, dict) and r.get("flagged") for r in results)
