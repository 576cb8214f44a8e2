"""What a retrieval's hits look like to Dify's clients and nodes.

- `result_items`: the knowledge-retrieval node's `result` (Dify's Source, serialised by
  alias), for external datasets: `document_id` is the record's `metadata.document_id` or
  its title, `document_name` and `title` the title, `score` the service's (0.0 when none),
  `doc_metadata` the record's metadata with Dify's additions (score, title, dataset id and
  name), `position` 1.. after sorting by score.
- `resource`: a retriever resource as `message_end` and `/messages` show it (Dify's
  RetrievalSourceMetadata, every field, unset ones null); `classic_resources` are a
  classic app's, `node_resources` those an LLM node takes from its context variable.
- `merge_resources`: Dify's advanced-chat merge of every LLM node's resources (one per
  dataset and document, positions renumbered).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.engine.knowledge.retrieve import Hit

WORKFLOW_SOURCE = "workflow"
SERVICE_API_SOURCE = "api"  # Dify's InvokeFrom.SERVICE_API.to_source()

RESOURCE_FIELDS = (
    "position",
    "dataset_id",
    "dataset_name",
    "document_id",
    "document_name",
    "data_source_type",
    "segment_id",
    "retriever_from",
    "score",
    "hit_count",
    "word_count",
    "segment_position",
    "index_node_hash",
    "content",
    "page",
    "doc_metadata",
    "title",
    "files",
    "summary",
)


def _document_id(hit: Hit) -> str:
    found = hit.record.metadata.get("document_id")
    return str(found) if found else hit.record.title


def doc_metadata(hit: Hit) -> dict[str, Any]:
    """The record's metadata with what Dify writes into it."""
    return {
        **hit.record.metadata,
        "score": hit.record.score,
        "title": hit.record.title,
        "dataset_id": hit.dataset.dataset_id,
        "dataset_name": hit.dataset.name,
    }


def result_items(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """The node's `result` (hits already best first)."""
    items: list[dict[str, Any]] = []
    for position, hit in enumerate(hits, start=1):
        metadata: dict[str, Any] = {
            "_source": "knowledge",
            "dataset_id": hit.dataset.dataset_id,
            "dataset_name": hit.dataset.name,
            "document_id": _document_id(hit),
            "document_name": hit.record.title,
            "data_source_type": "external",
            "segment_id": None,
            "retriever_from": WORKFLOW_SOURCE,
            "score": hit.score,
            "child_chunks": [],
            "segment_hit_count": 0,
            "segment_word_count": 0,
            "segment_position": 0,
            "segment_index_node_hash": None,
            "doc_metadata": doc_metadata(hit),
            "position": position,
        }
        items.append(
            {
                "metadata": metadata,
                "title": hit.record.title,
                "files": None,
                "content": hit.record.content,
                "summary": None,
            }
        )
    return items


def resource(**values: Any) -> dict[str, Any]:
    """A retriever resource with every field Dify's model has, in its order."""
    return {name: values.get(name) for name in RESOURCE_FIELDS}


def classic_resources(
    hits: Sequence[Hit], retriever_from: str = SERVICE_API_SOURCE
) -> list[dict[str, Any]]:
    """A classic app's resources for external hits (Dify's `_context`)."""
    return [
        resource(
            position=position,
            dataset_id=hit.dataset.dataset_id,
            dataset_name=hit.dataset.name,
            document_id=_document_id(hit),
            document_name=hit.record.title,
            data_source_type="external",
            retriever_from=retriever_from,
            score=hit.record.score,
            content=hit.record.content,
        )
        for position, hit in enumerate(hits, start=1)
    ]


def classic_context(hits: Sequence[Hit]) -> str:
    """The context a classic prompt gets: the contents, best first, one per line."""
    return "\n".join(hit.record.content for hit in hits)


def node_resource(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """The resource an LLM node reports for one context item (Dify's
    `_convert_to_original_retriever_resource`): only knowledge results have one."""
    metadata = item.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("_source") != "knowledge":
        return None
    return resource(
        position=metadata.get("position"),
        dataset_id=metadata.get("dataset_id"),
        dataset_name=metadata.get("dataset_name"),
        document_id=metadata.get("document_id"),
        document_name=metadata.get("document_name"),
        data_source_type=metadata.get("data_source_type"),
        segment_id=metadata.get("segment_id"),
        retriever_from=metadata.get("retriever_from"),
        score=metadata.get("score"),
        hit_count=metadata.get("segment_hit_count"),
        word_count=metadata.get("segment_word_count"),
        segment_position=metadata.get("segment_position"),
        index_node_hash=metadata.get("segment_index_node_hash"),
        content=item.get("content"),
        page=metadata.get("page"),
        doc_metadata=metadata.get("doc_metadata"),
        files=item.get("files"),
        summary=item.get("summary"),
    )


def node_resources(value: Any) -> list[dict[str, Any]]:
    """The resources in an LLM node's context value (an array of retrieval results)."""
    if not isinstance(value, list):
        return []
    found = [node_resource(item) for item in value if isinstance(item, Mapping)]
    return [r for r in found if r is not None]


def merge_resources(groups: Iterable[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each group (one LLM node's resources) added in turn, skipping a resource whose
    (dataset_id, document_id) an earlier group already brought (when both are set);
    positions renumbered 1.. (Dify's `handle_retriever_resources`)."""
    merged: list[dict[str, Any]] = []
    for group in groups:
        seen = {
            (item.get("dataset_id"), item.get("document_id"))
            for item in merged
            if item.get("dataset_id") and item.get("document_id")
        }
        for item in group:
            key = (item.get("dataset_id"), item.get("document_id"))
            if key[0] and key[1] and key in seen:
                continue
            merged.append(dict(item))
    for position, item in enumerate(merged, start=1):
        item["position"] = position
    return merged
