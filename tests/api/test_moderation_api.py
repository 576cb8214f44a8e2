"""sensitive_word_avoidance `api`: Dify's API-based extension, called through the SSRF
guard on a local HTTP server (let through with KILN_SSRF_ALLOWED_HOSTS)."""

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
EXT_KEY = "ext-secret-key-987654"
Responder = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


class Extension:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.respond: Responder = lambda body: (200, {"flagged": False, "action": "direct_output"})
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/moderation"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ext = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                ext.calls.append(body | {"_auth": self.headers.get("authorization")})
                status, payload = ext.respond(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[Extension]:
    ext = Extension()
    thread = threading.Thread(target=ext.server.serve_forever, daemon=True)
    thread.start()
    settings = get_settings()
    monkeypatch.setattr(settings, "ssrf_allowed_hosts", "127.0.0.1/32")
    registry = {"ext-1": {"api_endpoint": ext.url, "api_key": EXT_KEY}}
    monkeypatch.setattr(settings, "moderation_api_extensions", json.dumps(registry))
    yield ext
    ext.server.shutdown()
    ext.server.server_close()


def _rule(**config: Any) -> dict[str, Any]:
    base = {
        "api_based_extension_id": "ext-1",
        "inputs_config": {"enabled": True},
        "outputs_config": {"enabled": True},
    }
    return {"enabled": True, "type": "api", "config": base | config}


async def _run(client: httpx.AsyncClient, rule: dict[str, Any], query: str) -> list[dict]:
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=rule))
    body = {
        "auto_generate_name": False,
        "inputs": {},
        "query": query,
        "response_mode": "streaming",
        "user": "mod-api",
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert EXT_KEY not in resp.text
    return parse_frames(resp.text)


def _by_point(point: str, payload: dict[str, Any]) -> Responder:
    clean = {"flagged": False, "action": "direct_output"}
    return lambda body: (200, payload if body["point"] == point else clean)


async def test_input_direct_output(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    verdict = {"flagged": True, "action": "direct_output", "preset_response": "Blocked by API."}
    extension.respond = _by_point("app.moderation.input", verdict)
    events = await _run(client, _rule(), "bad question")
    assert answer_of(events) == "Blocked by API."
    assert events[-1]["event"] == "message_end"
    assert upstream.requests == []
    call = extension.calls[0]
    assert call["point"] == "app.moderation.input"
    assert call["params"]["query"] == "bad question"
    assert call["params"]["inputs"] == {}
    assert call["params"]["app_id"]
    assert call["_auth"] == f"Bearer {EXT_KEY}"


async def test_input_overridden_reaches_model(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    verdict = {"flagged": True, "action": "overridden", "inputs": {}, "query": "sanitised query"}
    extension.respond = _by_point("app.moderation.input", verdict)
    events = await _run(client, _rule(), "raw query")
    assert answer_of(events) == "Hello word word word word"
    sent = json.dumps(upstream.requests[0]["messages"])
    assert "sanitised query" in sent and "raw query" not in sent
    assert [c["point"] for c in extension.calls] == [
        "app.moderation.input",
        "app.moderation.output",
    ]
    assert extension.calls[1]["params"]["text"] == "Hello word word word word"


async def test_output_overridden_at_end(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    verdict = {"flagged": True, "action": "overridden", "text": "Hello [redacted]"}
    extension.respond = _by_point("app.moderation.output", verdict)
    events = await _run(client, _rule(), "hi")
    replace = [e for e in events if e["event"] == "message_replace"]
    assert [r["answer"] for r in replace] == ["Hello [redacted]"]
    assert events[-1]["event"] == "message_end"


async def test_direct_endpoint_in_config(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    verdict = {"flagged": True, "action": "direct_output", "preset_response": "Nope."}
    extension.respond = _by_point("app.moderation.output", verdict)
    rule = _rule(api_based_extension_id=None, api_endpoint=extension.url, api_key="direct-key")
    events = await _run(client, rule, "hi")
    assert [e["answer"] for e in events if e["event"] == "message_replace"] == ["Nope."]
    assert extension.calls[0]["_auth"] == "Bearer direct-key"


async def test_extension_error_is_invalid_param(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    extension.respond = lambda body: (500, {"detail": "boom"})
    events = await _run(client, _rule(), "hi")
    assert events[-1]["event"] == "error"
    assert events[-1]["code"] == "invalid_param"
    assert "status_code: 500" in events[-1]["message"]
    assert upstream.requests == []


async def test_extension_error_text_leaves_out_urls_and_hosts(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    detail = "relay https://mod.internal.example.com:8080/check?token=abc123 down (10.1.2.3)"
    extension.respond = lambda body: (502, {"detail": detail})
    events = await _run(client, _rule(), "hi")
    assert events[-1]["code"] == "invalid_param"
    message = events[-1]["message"]
    assert (
        message
        == 'request error, status_code: 502, content: {"detail": "relay [url] down ([host])"}'
    )


async def test_unknown_extension_id(
    client: httpx.AsyncClient, upstream: FakeUpstream, extension: Extension
) -> None:
    events = await _run(client, _rule(api_based_extension_id="nope"), "hi")
    assert events[-1]["code"] == "invalid_param"
    assert "API-based Extension not found" in events[-1]["message"]


async def test_internal_endpoint_blocked_without_allow_list(
    client: httpx.AsyncClient,
    upstream: FakeUpstream,
    extension: Extension,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "ssrf_allowed_hosts", "")
    events = await _run(client, _rule(), "hi")
    assert events[-1]["event"] == "error"
    assert events[-1]["code"] == "invalid_param"
    assert extension.calls == []
    assert upstream.requests == []
