"""Reading a retrieval service's answer: `{records: [...]}` on success, the External
Knowledge API's `{error_code, error_msg}` (1001 bad Authorization header, 1002
authorization failed, 2001 knowledge does not exist) or any other body on failure.

Dify takes `records` (absent: none) and builds each hit from `content`, `score`, `title`
and `metadata`; a record whose metadata is not an object breaks Dify's pipeline, so here it
is a clear error rather than a half-read answer."""

from typing import Any

import orjson

from app.gateway.redact import upstream_detail
from app.integrations.knowledge.errors import KnowledgeServiceError
from app.integrations.knowledge.records import KnowledgeRecord

MAX_DETAIL = 200  # characters of a service's own error text kept in the message


def _score(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("`score` is not a number")
    return float(value)


def _record(item: Any) -> KnowledgeRecord:
    if not isinstance(item, dict):
        raise ValueError("a record is not an object")
    content = item.get("content")
    if not isinstance(content, str):
        raise ValueError("a record has no `content` text")
    metadata = item.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError("a record's `metadata` is not an object")
    title = item.get("title")
    return KnowledgeRecord(
        content=content,
        score=_score(item.get("score")),
        title=title if isinstance(title, str) else "" if title is None else str(title),
        metadata=metadata,
    )


def parse_records(where: str, raw: bytes) -> list[KnowledgeRecord]:
    """The records of a 2xx answer, or KnowledgeServiceError naming what is wrong."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise KnowledgeServiceError(
            f"{where}: the retrieval service answered invalid JSON"
        ) from None
    if not isinstance(payload, dict):
        raise KnowledgeServiceError(f"{where}: the retrieval service's answer is not an object")
    records = payload.get("records")
    if records is None:
        return []
    if not isinstance(records, list):
        raise KnowledgeServiceError(f"{where}: `records` in the answer is not a list")
    try:
        return [_record(item) for item in records]
    except ValueError as exc:
        raise KnowledgeServiceError(f"{where}: malformed answer: {exc}") from None


def failure(
    where: str, status: int, raw: bytes, secrets: tuple[str | None, ...]
) -> KnowledgeServiceError:
    """The error for a non-2xx answer: the API's error code and message when it sent them,
    else the body cleaned like a provider's error."""
    text = raw.decode("utf-8", "replace")
    payload: Any = None
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    if isinstance(payload, dict) and payload.get("error_code") is not None:
        code = payload["error_code"]
        detail = upstream_detail(str(payload.get("error_msg") or ""), secrets, status)
        said = f"error {code}" + (f": {detail[:MAX_DETAIL]}" if detail else "")
        message = f"{where}: the retrieval service answered HTTP {status} ({said})"
        return KnowledgeServiceError(message, status, code)
    detail = upstream_detail(text, secrets, status)[:MAX_DETAIL]
    message = f"{where}: the retrieval service answered HTTP {status}" + (
        f": {detail}" if detail else ""
    )
    return KnowledgeServiceError(message, status)
