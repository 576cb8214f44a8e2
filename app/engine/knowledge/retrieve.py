"""One retrieval over mapped knowledge bases.

- Every dataset must be mapped: the first that is not fails the retrieval
  (KnowledgeNotMapped), whatever the query, so a missing mapping is never an empty result.
- An empty query retrieves nothing (Dify's node and apps skip it).
- single: one dataset (router.py chooses among several), asked with the dataset's own
  setting: the mapping's `top_k` (default 4, Dify's) and `score_threshold` (default off).
- multiple: every dataset at once; each is asked for the node's top-k and threshold unless
  its mapping sets its own; the records are merged by the services' scores (highest first,
  datasets in configured order on ties), records under the threshold dropped, the first
  top-k kept. With reranking on, a rerank model and more than one dataset, the model
  scores the merged records instead (rerank.py), as Dify does; weighted-score reranking
  needs the datasets' own embedding models, which external knowledge bases do not have,
  so the services' scores decide then. Any dataset failing fails the retrieval (the
  others are cancelled).
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.engine.knowledge.rerank import rerank_records
from app.engine.knowledge.router import Routed, choose_dataset
from app.engine.knowledge.settings import DEFAULT_TOP_K, RetrievalConfig
from app.engine.workflow.env import KnowledgeService
from app.gateway.gateway import ModelGateway
from app.integrations.knowledge.records import KnowledgeBaseInfo, KnowledgeRecord


@dataclass(frozen=True, slots=True)
class Hit:
    dataset: KnowledgeBaseInfo
    record: KnowledgeRecord

    @property
    def score(self) -> float:
        return self.record.score or 0.0


@dataclass(slots=True)
class Retrieval:
    hits: list[Hit] = field(default_factory=list)  # best first
    routed: Routed | None = None  # single mode with several datasets: the model's choice


def by_score(hits: Sequence[Hit]) -> list[Hit]:
    """Highest score first; equal scores keep their order (Python's sort is stable)."""
    return sorted(hits, key=lambda hit: hit.score, reverse=True)


async def _ask(
    service: KnowledgeService,
    dataset: KnowledgeBaseInfo,
    query: str,
    top_k: int,
    threshold: float | None,
    condition: Mapping[str, Any] | None,
) -> list[Hit]:
    records = await service.retrieve(
        dataset.dataset_id,
        query,
        top_k=top_k,
        score_threshold=threshold,
        metadata_condition=condition,
    )
    return [Hit(dataset, record) for record in records]


async def retrieve(
    service: KnowledgeService,
    gateway: ModelGateway,
    config: RetrievalConfig,
    query: str,
    condition: Mapping[str, Any] | None = None,
) -> Retrieval:
    datasets = [service.describe(dataset_id) for dataset_id in config.dataset_ids]
    if not datasets or not query:
        return Retrieval()
    if config.mode == "single":
        routed = await choose_dataset(gateway, config.router, query, datasets)
        chosen = routed.dataset
        if chosen is None:
            return Retrieval(routed=routed)
        top_k = chosen.top_k or DEFAULT_TOP_K
        hits = await _ask(service, chosen, query, top_k, chosen.score_threshold, condition)
        return Retrieval(by_score(hits), routed if len(datasets) > 1 else None)
    asks = [
        asyncio.create_task(
            _ask(
                service,
                dataset,
                query,
                dataset.top_k or config.top_k or DEFAULT_TOP_K,
                dataset.score_threshold
                if dataset.score_threshold is not None
                else config.score_threshold,
                condition,
            )
        )
        for dataset in datasets
    ]
    try:
        groups = await asyncio.gather(*asks)
    except BaseException:
        for ask in asks:
            ask.cancel()
        await asyncio.gather(*asks, return_exceptions=True)
        raise
    hits = [hit for group in groups for hit in group]
    model = config.reranking_model
    if config.reranking_enable and config.reranking_mode == "reranking_model" and model:
        if len(datasets) > 1:  # Dify skips a second reranking of a single dataset's records
            pairs = [(hit.dataset, hit.record) for hit in hits]
            ranked = await rerank_records(
                gateway, model, query, pairs, config.score_threshold, config.top_k
            )
            return Retrieval([Hit(dataset, record) for dataset, record in ranked])
    merged = by_score(hits)
    if config.score_threshold is not None:
        merged = [hit for hit in merged if hit.score >= config.score_threshold]
    return Retrieval(merged[: config.top_k] if config.top_k else merged)
