"""Rerank models (Dify's knowledge reranking): a query and documents in, a relevance score
per document out, best first. Providers take the Cohere-style `POST {base}/rerank`
(`{model, query, documents}` → `results` or `data` of `{index, relevance_score}`), which
Cohere, Jina, Voyage, SiliconFlow, Xinference, vLLM and Dify's OpenAI-compatible provider
all speak; the `kiln` provider scores offline."""

import math
from dataclasses import dataclass
from typing import Any

import orjson

from app.gateway.embeddings import offline_embed
from app.gateway.openai_compat import post_json
from app.gateway.providers import ResolvedProvider
from app.gateway.types import UpstreamError

# Where a provider's rerank endpoint is when its chat settings name no base URL (Cohere's
# chat goes through litellm, which knows its own).
RERANK_BASES = {"cohere": "https://api.cohere.com/v1"}


@dataclass(frozen=True, slots=True)
class RerankScore:
    index: int  # the document's position in the request
    score: float


def best_first(scores: list[RerankScore]) -> list[RerankScore]:
    return sorted(scores, key=lambda s: (-s.score, s.index))


def offline_rerank(query: str, documents: list[str]) -> list[RerankScore]:
    """Cosine similarity of the offline embeddings, floored at 0: shared words rank first."""
    wanted = offline_embed(query)

    def similarity(doc: str) -> float:
        return sum(a * b for a, b in zip(wanted, offline_embed(doc), strict=True))

    return best_first([RerankScore(i, max(0.0, similarity(d))) for i, d in enumerate(documents)])


def _score(item: dict[str, Any], count: int) -> RerankScore:
    index = int(item["index"])
    score = float(item["relevance_score"] if "relevance_score" in item else item["score"])
    if not 0 <= index < count or not math.isfinite(score):
        raise ValueError("index or score out of range")
    return RerankScore(index, score)


async def http_rerank(
    provider: ResolvedProvider, model: str, query: str, documents: list[str], timeout: float
) -> list[RerankScore]:
    body = {"model": model, "query": query, "documents": documents}
    resp = await post_json(provider, "/rerank", body, timeout)
    try:
        answer = orjson.loads(resp.content)
        items = answer.get("results") or answer.get("data") or []
        scores = [_score(item, len(documents)) for item in items]
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        raise UpstreamError(f"[{provider.id}] Malformed rerank response") from None
    return best_first(scores)
