"""`ExternalKnowledge`: dataset id → the integrations file's mapping → `POST
{endpoint}/retrieval` with `Authorization: Bearer <api_key>` and `{knowledge_id, query,
retrieval_setting: {top_k, score_threshold}, metadata_condition?}`, as Dify's external
knowledge service sends it (the threshold is 0.0 when off; `metadata_condition` only when
there is one). Calls go through the SSRF guard (`KILN_SSRF_ALLOWED_HOSTS` lets an internal
service through).

An unmapped dataset is an error, never an empty result; so is a failed call (Dify's code
answers an empty list for a non-200, its documentation says the error reaches the user:
Kiln follows the documentation, so a misconfigured key or id is seen at once)."""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from app.core.config import Settings
from app.integrations.config import KnowledgeBase, load_integrations
from app.integrations.knowledge.answer import failure, parse_records
from app.integrations.knowledge.errors import KnowledgeNotMapped, KnowledgeServiceError
from app.integrations.knowledge.records import KnowledgeBaseInfo, KnowledgeRecord
from app.net.fetch import FetchBlocked, FetchError, FetchTimeout
from app.net.post import post_json
from app.net.ssrf import AllowList

logger = logging.getLogger("kiln.knowledge")

MAX_ANSWER_BYTES = 8 * 1024 * 1024


class ExternalKnowledge:
    """The mapped knowledge bases of one process (WorkflowServices.knowledge)."""

    def __init__(self, bases: Mapping[str, KnowledgeBase], allow: AllowList | None = None) -> None:
        self._bases = dict(bases)
        self._allow = allow or AllowList()

    @classmethod
    def from_settings(cls, settings: Settings) -> "ExternalKnowledge":
        integrations = load_integrations(settings.integrations_file)
        return cls(integrations.knowledge, AllowList.parse(settings.ssrf_allowed_hosts))

    def _base(self, dataset_id: str) -> KnowledgeBase:
        base = self._bases.get(dataset_id)
        if base is None:
            raise KnowledgeNotMapped(dataset_id)
        return base

    def describe(self, dataset_id: str) -> KnowledgeBaseInfo:
        """What Kiln knows of a dataset (KnowledgeNotMapped when the file has no entry)."""
        base = self._base(dataset_id)
        return KnowledgeBaseInfo(
            dataset_id=dataset_id,
            name=base.name or base.knowledge_id or dataset_id,
            description=base.description or "",
            top_k=base.top_k,
            score_threshold=base.score_threshold,
        )

    def unmapped(self, dataset_ids: Iterable[str]) -> list[str]:
        return [d for d in dataset_ids if d not in self._bases]

    async def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int,
        score_threshold: float | None,
        metadata_condition: Mapping[str, Any] | None = None,
    ) -> list[KnowledgeRecord]:
        base = self._base(dataset_id)
        where = f"Knowledge base {base.name or dataset_id}"
        body: dict[str, Any] = {
            "knowledge_id": base.knowledge_id or dataset_id,
            "query": query,
            "retrieval_setting": {
                "top_k": top_k,
                "score_threshold": score_threshold if score_threshold is not None else 0.0,
            },
        }
        if metadata_condition:
            body["metadata_condition"] = dict(metadata_condition)
        headers = {"Content-Type": "application/json"}
        if base.api_key:
            headers["Authorization"] = f"Bearer {base.api_key}"
        url = base.endpoint.rstrip("/") + "/retrieval"
        try:
            status, raw = await post_json(
                url, orjson.dumps(body), headers, self._allow, base.timeout, MAX_ANSWER_BYTES
            )
        except FetchTimeout:
            raise KnowledgeServiceError(
                f"{where}: the retrieval service did not answer within {base.timeout:g} s"
            ) from None
        except FetchBlocked as exc:
            raise KnowledgeServiceError(
                f"{where}: the retrieval service's address is not allowed ({exc}); "
                "KILN_SSRF_ALLOWED_HOSTS lets an internal host through"
            ) from None
        except FetchError as exc:
            raise KnowledgeServiceError(
                f"{where}: cannot reach the retrieval service ({exc})"
            ) from None
        if not 200 <= status < 300:
            error = failure(where, status, raw, (base.api_key,))
            logger.warning("knowledge retrieval failed: %s", error)
            raise error
        return parse_records(where, raw)
