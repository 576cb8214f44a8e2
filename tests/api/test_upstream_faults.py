"""Upstreams that misbehave, and what of them reaches clients and logs.

A 200 that is no event stream (empty, plain JSON, an error object, binary garbage, a
portal's HTML page) is a failed model call (`completion_request_error`), not an empty
answer. A provider's error text reaches the client (and the stored message) without URLs,
host names or markup, an HTML page as one short sentence. The HTTP client's request log
keeps host, path and status but no credentials."""

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import read_stream

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
VLLM = {"provider": "langgenius/vllm/vllm", "model": "my-model"}
NOT_A_STREAM = {
    "empty": "[openai] Error: Upstream returned an empty body instead of an event stream",
    "json": "[openai] Error: Upstream returned plain JSON instead of an event stream",
    "json_error": "[openai] Error: The server had an error while processing your request.",
    "garbage": "[openai] Error: Upstream returned a body that is not an event stream",
    "html": "[openai] Error: Upstream returned an HTML error page (200)",
}
URLS_AND_HOSTS = (
    "Upstream https://relay-user:relay-pass@relay.internal.example.com:8443/v1/chat failed "
    "(see https://status.example.com/incidents/42?key=AIzaLeakyKey123); tried 10.0.3.7:9000, "
    "[fd00::7]:443, ollama:11434, localhost and api.corp.internal <b>now</b>"
)
URLS_AND_HOSTS_CLEAN = (
    "Upstream [url] failed (see [url]); tried [host], [host], [host], [host] and [host] now"
)
LEAKS = ("http", "relay", "example.com", "AIza", "10.0.3.7", "fd00", "ollama", "localhost",
         "corp.internal", "<b>", "nginx", "gateway.internal", "<")  # fmt: skip


async def _chat(
    client: httpx.AsyncClient, key: str, mode: str, user: str
) -> tuple[int, dict[str, Any], str]:
    """(status, the error as code/message/status, conversation id) of a failed call."""
    body = {
        "inputs": {},
        "query": "hi",
        "user": user,
        "response_mode": mode,
        "auto_generate_name": False,
    }
    if mode == "blocking":
        resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
        listed = await client.get("/v1/conversations", params={"user": user}, headers=auth(key))
        return resp.status_code, resp.json(), listed.json()["data"][0]["id"]
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        raw, events = await read_stream(resp)
    events = [e for e in events if e["event"] != "ping"]
    assert [e["event"] for e in events] == ["error"], raw
    error = {name: events[0][name] for name in ("code", "message", "status")}
    return resp.status_code, error, events[0]["conversation_id"]


async def _stored(client: httpx.AsyncClient, key: str, user: str, cid: str) -> dict[str, Any]:
    params = {"user": user, "conversation_id": cid}
    resp = await client.get("/v1/messages", params=params, headers=auth(key))
    [message] = resp.json()["data"]
    return dict(message)


@pytest.mark.parametrize("mode", ["streaming", "blocking"])
@pytest.mark.parametrize("answer", sorted(NOT_A_STREAM))
async def test_a_200_that_is_not_an_event_stream_is_a_failed_call(
    client: httpx.AsyncClient, upstream: FakeUpstream, answer: str, mode: str
) -> None:
    upstream.behaviour.answer_200 = answer
    _, key = await make_app(chat_dsl(**OPENAI))
    user = f"{answer}-{mode}"
    status, error, cid = await _chat(client, key, mode, user)
    assert status == (200 if mode == "streaming" else 400)
    message = NOT_A_STREAM[answer]
    assert error == {"code": "completion_request_error", "message": message, "status": 400}
    stored = await _stored(client, key, user, cid)
    assert (stored["status"], stored["error"], stored["answer"]) == ("error", message, "")


@pytest.mark.parametrize("answer", ["empty", "garbage", "html"])
async def test_the_litellm_path_fails_such_a_200_too(
    client: httpx.AsyncClient,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    monkeypatch.setenv("VLLM_API_BASE", upstream.base_url)
    monkeypatch.setenv("VLLM_API_KEY", "sk-vllm-secret-987654321")
    upstream.behaviour.answer_200 = answer
    _, key = await make_app(chat_dsl(**VLLM))
    status, error, _ = await _chat(client, key, "streaming", f"lite-{answer}")
    assert (status, error["code"], error["status"]) == (200, "completion_request_error", 400)
    assert error["message"] == "[vllm] Error: Upstream returned no answer"


@pytest.mark.parametrize("mode", ["streaming", "blocking"])
async def test_a_proxy_error_page_becomes_one_short_sentence(
    client: httpx.AsyncClient, upstream: FakeUpstream, mode: str
) -> None:
    upstream.behaviour.status = 502
    upstream.behaviour.error_page = True
    _, key = await make_app(chat_dsl(**OPENAI))
    status, error, cid = await _chat(client, key, mode, f"page-{mode}")
    message = "[openai] Error code: 502 - Upstream returned an HTML error page (502)"
    assert error == {"code": "completion_request_error", "message": message, "status": 400}
    assert status == (200 if mode == "streaming" else 400)
    assert (await _stored(client, key, f"page-{mode}", cid))["error"] == message


@pytest.mark.parametrize("path", ["direct", "litellm"])
async def test_urls_hosts_and_markup_leave_the_providers_message(
    client: httpx.AsyncClient,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    upstream.behaviour.status = 500
    upstream.behaviour.error_message = URLS_AND_HOSTS
    if path == "litellm":
        monkeypatch.setenv("VLLM_API_BASE", upstream.base_url)
        monkeypatch.setenv("VLLM_API_KEY", "sk-vllm-secret-987654321")
    _, key = await make_app(chat_dsl(**(OPENAI if path == "direct" else VLLM)))
    status, error, cid = await _chat(client, key, "blocking", f"urls-{path}")
    assert (status, error["code"]) == (400, "completion_request_error")
    stored = (await _stored(client, key, f"urls-{path}", cid))["error"]
    assert stored == error["message"]
    for leak in LEAKS:
        assert leak not in error["message"], (leak, error["message"])
    if path == "direct":
        assert error["message"] == f"[openai] Error code: 500 - {URLS_AND_HOSTS_CLEAN}"
    else:
        assert URLS_AND_HOSTS_CLEAN in error["message"], error["message"]


async def test_model_calls_are_logged_without_credentials(
    client: httpx.AsyncClient,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A base URL with user info (a proxy's basic auth) is logged by host, path and status."""
    parts = urlsplit(upstream.base_url)
    keyed = parts._replace(netloc=f"kiln-user:kiln-pass-4711@{parts.netloc}")
    monkeypatch.setenv("OPENAI_BASE_URL", urlunsplit(keyed))
    upstream.behaviour.chunks = ["fine"]
    _, key = await make_app(chat_dsl(**OPENAI))
    body = {"inputs": {}, "query": "hi", "user": "log-u", "auto_generate_name": False}
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.INFO, logger="httpx"):
        resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "fine"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "kiln-pass-4711" not in logged and "kiln-user" not in logged, logged
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    expected = f'HTTP Request: POST {upstream.base_url}/chat/completions "HTTP/1.1 200 OK"'
    assert expected in requests, logged
