"""Reranking the merged records of a multiple-mode retrieval with a rerank model (Dify's
RerankModelRunner): identical records once, every record scored against the query, the
model's score replacing the service's, those under the threshold dropped, the best top-k
kept. A model that cannot be called fails the retrieval, as in Dify."""

import dataclasses
from typing import TypeVar

from app.engine.knowledge.settings import RerankModel
from app.gateway.gateway import ModelGateway
from app.gateway.types import GatewayError
from app.integrations.knowledge.errors import KnowledgeError
from app.integrations.knowledge.records import KnowledgeRecord

Source = TypeVar("Source")  # what a record came from (its dataset)


class RerankFailed(KnowledgeError):
    def __init__(self, model: RerankModel, reason: str) -> None:
        super().__init__(f"Rerank model {model.provider}/{model.model} failed: {reason}")


def _distinct(
    items: list[tuple[Source, KnowledgeRecord]],
) -> list[tuple[Source, KnowledgeRecord]]:
    kept: list[tuple[Source, KnowledgeRecord]] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


async def rerank_records(
    gateway: ModelGateway,
    model: RerankModel,
    query: str,
    records: list[tuple[Source, KnowledgeRecord]],
    score_threshold: float | None,
    top_k: int,
) -> list[tuple[Source, KnowledgeRecord]]:
    """`records` with what each came from, best first by the model."""
    records = _distinct(records)
    documents = [record.content for _, record in records]
    try:
        scores = await gateway.rerank(model.provider, model.model, query, documents)
    except GatewayError as exc:
        raise RerankFailed(model, str(exc)) from None
    ranked = [
        (records[s.index][0], dataclasses.replace(records[s.index][1], score=s.score))
        for s in scores
        if score_threshold is None or s.score >= score_threshold
    ]
    return ranked[:top_k] if top_k else ranked
