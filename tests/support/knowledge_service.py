"""A local retrieval service speaking Dify's External Knowledge API, for tests.

`POST /retrieval` with `Authorization: Bearer <key>` and `{knowledge_id, query,
retrieval_setting: {top_k, score_threshold}, metadata_condition?}` answers `{records:
[{content, score, title, metadata}]}`: the knowledge base's documents whose metadata pass
the condition, with score ≥ the threshold, best first, at most top_k. Each document's score
is fixed by the test, so results are predictable. Errors as the API defines them: 403
`{error_code: 1001}` for a missing or malformed Authorization header, 403 `{1002}` for a
wrong key, 404 `{2001}` for an unknown knowledge id. Knowledge ids `broken-json`,
`null-metadata`, `not-a-list` and `plain-500` answer malformed bodies; `slow` waits 2 s.

Standard library only; every request is recorded (`requests`)."""

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "kb-test-key"


@dataclass
class Document:
    content: str
    score: float
    title: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _passes(metadata: dict[str, Any], condition: dict[str, Any]) -> bool:
    names = condition.get("name")
    name = names[0] if isinstance(names, list) and names else names
    actual = metadata.get(str(name))
    op = condition.get("comparison_operator")
    expected = condition.get("value")
    text = "" if actual is None else str(actual)
    if op == "empty":
        return actual in (None, "", [])
    if op == "not empty":
        return actual not in (None, "", [])
    if op == "is":
        return text == str(expected)
    if op == "is not":
        return text != str(expected)
    if op == "contains":
        return str(expected) in text
    if op == "not contains":
        return str(expected) not in text
    if op == "start with":
        return text.startswith(str(expected))
    if op == "end with":
        return text.endswith(str(expected))
    if op == "in":
        return text in (expected if isinstance(expected, list) else str(expected).split(","))
    if op == "not in":
        return text not in (expected if isinstance(expected, list) else str(expected).split(","))
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False
    return {
        "=": left == right,
        "≠": left != right,
        ">": left > right,
        "<": left < right,
        "≥": left >= right,
        "≤": left <= right,
    }.get(str(op), False)


def _matches(metadata: dict[str, Any], spec: dict[str, Any] | None) -> bool:
    if not spec or not spec.get("conditions"):
        return True
    results = [_passes(metadata, c) for c in spec["conditions"]]
    return any(results) if spec.get("logical_operator") == "or" else all(results)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on the slow knowledge base leaves a broken pipe: expected.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class KnowledgeService:
    """Start with `with knowledge_service({...}) as service:`; `service.url` is the
    endpoint to map (the client appends `/retrieval`)."""

    def __init__(self, bases: dict[str, list[Document]], api_key: str = API_KEY) -> None:
        self.bases = bases
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def _reply(self, status: int, payload: Any, raw: bytes | None = None) -> None:
                body = raw if raw is not None else json.dumps(payload).encode()
                self.send_response_only(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                service.requests.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                )
                if self.path != "/retrieval":
                    self._reply(404, {"error": "not found"})
                    return
                status, payload, extra = service.answer(self.headers.get("Authorization"), body)
                self._reply(status, payload, extra)

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(
        self, authorization: str | None, body: dict[str, Any]
    ) -> tuple[int, Any, bytes | None]:
        if not authorization or not authorization.startswith("Bearer "):
            message = "Invalid Authorization header format. Expected 'Bearer <api-key>' format."
            return 403, {"error_code": 1001, "error_msg": message}, None
        if authorization.removeprefix("Bearer ") != self.api_key:
            return 403, {"error_code": 1002, "error_msg": "Authorization failed"}, None
        knowledge_id = str(body.get("knowledge_id"))
        if knowledge_id == "broken-json":
            return 200, None, b"{not json"
        if knowledge_id == "not-a-list":
            return 200, {"records": {"content": "x"}}, None
        if knowledge_id == "null-metadata":
            return (
                200,
                {"records": [{"content": "x", "score": 0.5, "title": "t", "metadata": None}]},
                None,
            )
        if knowledge_id == "plain-500":
            return 500, None, b"upstream exploded at http://10.0.0.7:9200/_search"
        if knowledge_id == "slow":
            time.sleep(2)
        documents = self.bases.get(knowledge_id)
        if documents is None:
            return 404, {"error_code": 2001, "error_msg": "The knowledge does not exist"}, None
        setting = body.get("retrieval_setting") or {}
        top_k = int(setting.get("top_k") or 0)
        threshold = float(setting.get("score_threshold") or 0.0)
        chosen = [
            d
            for d in documents
            if d.score >= threshold and _matches(d.metadata, body.get("metadata_condition"))
        ]
        chosen.sort(key=lambda d: d.score, reverse=True)
        records = [
            {"content": d.content, "score": d.score, "title": d.title, "metadata": d.metadata}
            for d in chosen[:top_k]
        ]
        return 200, {"records": records}, None


@contextmanager
def knowledge_service(
    bases: dict[str, list[Document]], api_key: str = API_KEY
) -> Iterator[KnowledgeService]:
    service = KnowledgeService(bases, api_key)
    service._thread.start()
    try:
        yield service
    finally:
        service._server.shutdown()
        service._server.server_close()
