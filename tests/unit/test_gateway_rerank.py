"""Rerank models through the gateway, in-process: the Cohere-style `/rerank` call against
the local fake upstream (what is sent, both answer keys, errors), the offline scorer, and
the settings a provider without credentials or an endpoint names."""

from collections.abc import Iterator

import pytest

from app.core.config import Settings
from app.gateway.gateway import ModelGateway
from app.gateway.rerank import RerankScore
from app.gateway.types import ProviderNotInitialized, UpstreamError
from tests.support.fake_upstream import FakeUpstream

DOCS = ["Parking is free.", "The office opens at 8.", "Office hours end at 5."]
QUERY = "when does the office open"
COMPATIBLE = "langgenius/openai_api_compatible/openai_api_compatible"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def gateway(upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch) -> ModelGateway:
    upstream.reset()
    monkeypatch.setenv("OPENAI_API_COMPATIBLE_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_COMPATIBLE_API_KEY", "sk-rerank")
    return ModelGateway(Settings())


async def test_a_compatible_provider_reranks_over_http(
    gateway: ModelGateway, upstream: FakeUpstream
) -> None:
    scores = await gateway.rerank(COMPATIBLE, "bge-reranker-v2-m3", QUERY, DOCS)
    assert scores == [RerankScore(1, 0.4), RerankScore(2, 0.2), RerankScore(0, 0.0)]
    [sent] = upstream.requests
    assert sent.pop("_path") == "/v1/rerank"
    assert sent.pop("_headers")["authorization"] == "Bearer sk-rerank"
    assert sent == {"model": "bge-reranker-v2-m3", "query": QUERY, "documents": DOCS}
    upstream.behaviour.rerank_answer = "data"  # Voyage's key
    assert (await gateway.rerank(COMPATIBLE, "m", QUERY, DOCS))[0] == RerankScore(1, 0.4)


async def test_rerank_failures_are_gateway_errors(
    gateway: ModelGateway, upstream: FakeUpstream
) -> None:
    upstream.behaviour.rerank_answer = "garbage"
    with pytest.raises(UpstreamError, match="Malformed rerank response"):
        await gateway.rerank(COMPATIBLE, "m", QUERY, DOCS)
    upstream.behaviour.rerank_status = 500
    with pytest.raises(UpstreamError):
        await gateway.rerank(COMPATIBLE, "m", QUERY, DOCS)


async def test_offline_and_unconfigured_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COHERE_API_KEY", "XINFERENCE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    gateway = ModelGateway(Settings())
    assert await gateway.rerank("cohere", "m", QUERY, []) == []
    offline = await gateway.rerank("langgenius/kiln/kiln", "rerank", QUERY, DOCS)
    assert offline[0].index == 1 and offline[-1] == RerankScore(0, 0.0)
    with pytest.raises(ProviderNotInitialized, match="set COHERE_API_KEY"):
        await gateway.rerank("langgenius/cohere/cohere", "rerank-v3.5", QUERY, DOCS)
    with pytest.raises(ProviderNotInitialized, match="no rerank endpoint: set XINFERENCE_API_BASE"):
        await gateway.rerank("xinference", "bge", QUERY, DOCS)
    # An offline model override reranks offline too, so exports run before wiring.
    overridden = ModelGateway(Settings(model_override="kiln/echo"))
    assert (await overridden.rerank("cohere", "rerank-v3.5", QUERY, DOCS))[0].index == 1
