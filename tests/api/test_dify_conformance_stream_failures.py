"""Streaming and failure behaviour of `POST /v1/chat-messages` where Kiln once differed from
Dify (found by a spec review). Each test cites the spec (shared/spec), the reference notes
(shared/reference/dify-api-behavior.md) or the Dify source file (langgenius/dify) it follows."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import yaml

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import read_stream

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
NO_CONVERSATION = "Conversation Not Exists."
REQUIRED_FORM = [{"text-input": {"variable": "name", "label": "Name", "required": True}}]


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "auto_generate_name": False,
        "inputs": {},
        "query": "hi",
        "user": "review-sf",
        "response_mode": "streaming",
    }
    body.update(overrides)
    return body


async def _stream(
    client: httpx.AsyncClient, key: str, **overrides: Any
) -> tuple[httpx.Response, str, list[dict[str, Any]]]:
    body = _body(**overrides)
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        raw, events = await read_stream(resp)
    return resp, raw, [e for e in events if e["event"] != "ping"]


async def _stored(
    client: httpx.AsyncClient, key: str, conversation_id: str, user: str = "review-sf"
) -> list[dict[str, Any]]:
    resp = await client.get(
        "/v1/messages",
        params={"conversation_id": conversation_id, "user": user},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    return list(resp.json()["data"])


@contextlib.asynccontextmanager
async def _raw_upstream(sse_lines: list[str]) -> AsyncIterator[str]:
    """A one-shot OpenAI-compatible endpoint answering 200 with the given SSE `data:` lines
    (used for stream shapes the shared fake upstream cannot produce)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            await reader.readexactly(length)
        payload = "".join(f"data: {line}\n\n" for line in sse_lines).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
            + f"content-length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()


def _chunk(content: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-x",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
        }
    )


# 1. Provider rate limit inside a stream ---------------------------------------------------------
async def test_stream_rate_limit_is_completion_request_error(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """dify-api-behavior.md §1.3: in-stream mapping (`_error_to_stream_response`) is ValueError,
    provider-not-initialized, quota, model-not-supported, "model invoke errors ->
    `completion_request_error`/400" - there is no rate-limit entry. Dify
    api/core/app/apps/base_app_generate_response_converter.py: `InvokeError: {"code":
    "completion_request_error", "status": 400}`; the provider's 429 is the model runtime's
    InvokeRateLimitError, an InvokeError subclass (the 429 `rate_limit_error` of the OpenAPI
    spec is an HTTP answer of blocking calls, raised for services.errors.llm only)."""
    upstream.behaviour.status = 429
    _, key = await make_app(chat_dsl(**OPENAI))
    resp, raw, events = await _stream(client, key)
    assert resp.status_code == 200
    assert events[-1]["event"] == "error", raw
    assert (events[-1]["code"], events[-1]["status"]) == ("completion_request_error", 400), raw


# 2. Provider authentication failures -------------------------------------------------------------
@pytest.mark.parametrize("status", [401, 403])
async def test_upstream_auth_failure_reads_incorrect_api_key(
    client: httpx.AsyncClient, upstream: FakeUpstream, status: int
) -> None:
    """Dify api/core/app/task_pipeline/based_generate_task_pipeline.py `_handle_error`:
    `if isinstance(e, InvokeAuthorizationError): err = InvokeAuthorizationError("Incorrect API
    key provided")`; that text is the stream event's message (§1.3: message = error
    description) and the stored `message.error`. The OpenAI provider maps both
    openai.AuthenticationError (401) and PermissionDeniedError (403) to
    InvokeAuthorizationError (`_invoke_error_mapping`)."""
    upstream.behaviour.status = status
    _, key = await make_app(chat_dsl(**OPENAI))
    resp, raw, events = await _stream(client, key)
    error = events[-1]
    assert error["event"] == "error", raw
    assert error["code"] == "completion_request_error"
    assert error["message"] == "Incorrect API key provided", raw
    [message] = await _stored(client, key, error["conversation_id"])
    assert message["status"] == "error"
    assert message["error"] == "Incorrect API key provided"


# 3. What a failed generation leaves stored --------------------------------------------------------
async def test_failed_generation_keeps_the_empty_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Dify api/core/app/task_pipeline/easy_ui_based_generate_task_pipeline.py: on
    QueueErrorEvent only `handle_error` runs (sets `status="error"` and `error`), then `break`;
    `_save_message` (the only writer of `message.answer`) runs on QueueStopEvent /
    QueueMessageEndEvent alone. dify-api-behavior.md §6.3: the message row is created up
    front with `answer=""`; §6.10: "partial text [is persisted] only on explicit stop"."""
    upstream.behaviour.chunks = ["Par", "tial", " never", " seen"]
    upstream.behaviour.fail_after = 2
    _, key = await make_app(chat_dsl(**OPENAI))
    _, raw, events = await _stream(client, key)
    assert events[-1]["event"] == "error", raw
    [message] = await _stored(client, key, events[-1]["conversation_id"])
    assert message["status"] == "error"
    assert message["answer"] == ""


async def test_failed_generation_records_no_usage(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Same source: the error path never touches the token/price columns, which keep the zero
    values `_init_generate_records` wrote (message_tokens=0, answer_tokens=0); the usage is
    only written by `_save_message`."""
    upstream.behaviour.status = 500
    _, key = await make_app(chat_dsl(**OPENAI))
    _, raw, events = await _stream(client, key)
    assert events[-1]["event"] == "error", raw
    [message] = await _stored(client, key, events[-1]["conversation_id"])
    assert message["status"] == "error"
    assert (message["message_tokens"], message["answer_tokens"]) == (0, 0), message


# 4. Malformed provider streams -------------------------------------------------------------------
async def test_provider_error_object_inside_stream_fails_the_generation(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenAI-compatible providers report late failures as a `data: {"error": {...}}` chunk.
    Dify's OpenAI provider goes through the openai SDK (openai/_streaming.py: `if
    is_mapping(data) and data.get("error"): raise APIError(...)` -> InvokeBadRequestError)
    and its openai_api_compatible provider raises on `chunk_json.get("error")`; either way the
    run ends with an `error` event (§1.3) and the message is stored with `status="error"`."""
    error = json.dumps({"error": {"message": "upstream overloaded", "type": "server_error"}})
    async with _raw_upstream([_chunk("Half"), error]) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key-123456")
        _, key = await make_app(chat_dsl(**OPENAI))
        _, raw, events = await _stream(client, key)
    assert events[-1]["event"] == "error", raw
    [message] = await _stored(client, key, events[-1]["conversation_id"])
    assert message["status"] == "error"


@pytest.mark.parametrize("mode", ["streaming", "blocking"])
async def test_unexpected_chunk_shape_is_completion_request_error(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """A model call that fails for any reason is an InvokeError in Dify: the model runtime's
    `_transform_invoke_error` turns unmapped exceptions into `InvokeError("[provider] Error:
    ...")` (api/core/model_runtime/model_providers/__base/ai_model.py). Stream: InvokeError ->
    `completion_request_error`/400 (base_app_generate_response_converter.py, §1.3); blocking:
    api/controllers/service_api/app/completion.py `except InvokeError as e: raise
    CompletionRequestError(e.description)` -> 400."""
    async with _raw_upstream([_chunk("Hi"), "[1, 2]"]) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key-123456")
        _, key = await make_app(chat_dsl(**OPENAI))
        if mode == "streaming":
            _, raw, events = await _stream(client, key)
            assert events[-1]["event"] == "error", raw
            got = (events[-1]["code"], events[-1]["status"])
        else:
            resp = await client.post(
                "/v1/chat-messages", json=_body(response_mode="blocking"), headers=auth(key)
            )
            got = (resp.json()["code"], resp.status_code)
    assert got == ("completion_request_error", 400)


# 5. Validation order -----------------------------------------------------------------------------
async def test_unknown_conversation_is_checked_before_inputs(client: httpx.AsyncClient) -> None:
    """Dify api/core/app/apps/chat/app_generator.py (and agent_chat/app_generator.py) `generate`:
    `query is required` -> conversation lookup (ConversationNotExistsError -> 404 "Conversation
    Not Exists.") -> files -> app config -> `model_conf=ModelConfigConverter.convert(...)` ->
    `inputs=self._prepare_user_inputs(...)`. A request with both an unknown conversation and
    a missing required input is a 404."""
    _, key = await make_app(chat_dsl(form=REQUIRED_FORM))
    body = _body(response_mode="blocking", conversation_id=str(uuid.uuid4()))
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 404, resp.text
    assert resp.json() == {"code": "not_found", "message": NO_CONVERSATION, "status": 404}


async def test_unknown_conversation_is_checked_before_model_credentials(
    client: httpx.AsyncClient,
) -> None:
    """Same order: the conversation lookup precedes `ModelConfigConverter.convert`, which raises
    ProviderTokenNotInitError (-> 400 `provider_not_initialize`). No OPENAI_API_KEY is set
    here (tests/conftest.py clears it)."""
    _, key = await make_app(chat_dsl(**OPENAI))
    body = _body(response_mode="blocking", conversation_id=str(uuid.uuid4()))
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 404, resp.text
    assert resp.json()["code"] == "not_found"


async def test_model_credentials_are_checked_before_inputs(client: httpx.AsyncClient) -> None:
    """Same source: in the `ChatAppGenerateEntity(...)` constructor call `model_conf=
    ModelConfigConverter.convert(app_config)` is evaluated before `inputs=self.
    _prepare_user_inputs(...)`, so missing credentials win over invalid inputs: 400
    `provider_not_initialize`, not `invalid_param`."""
    _, key = await make_app(chat_dsl(form=REQUIRED_FORM, **OPENAI))
    resp = await client.post(
        "/v1/chat-messages", json=_body(response_mode="blocking"), headers=auth(key)
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "provider_not_initialize", resp.text


async def test_concurrency_limit_is_checked_before_generation_validation(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Dify api/services/app_generate_service.py `generate`: `rate_limit.enter(request_id)`
    (AppInvokeQuotaExceededError -> 429 `too_many_requests`, §1.1 rule 6, §6.9) runs before
    the app generator, i.e. before "query is required", the conversation lookup and input
    validation. With the only slot held by a running stream, a request for an unknown
    conversation is a 429."""
    upstream.behaviour.n_chunks = 1000  # 20 s: stopped long before its end
    upstream.behaviour.delay = 0.02
    document = yaml.safe_load(chat_dsl(**OPENAI))
    document["app"]["max_active_requests"] = 1
    _, key = await make_app(yaml.safe_dump(document))
    body = _body(user="busy-sf")
    request = client.build_request("POST", "/v1/chat-messages", json=body, headers=auth(key))
    running = await client.send(request, stream=True)
    try:
        lines = running.aiter_lines()
        first: dict[str, Any] = {}
        async for line in lines:
            if line.startswith("data: "):
                first = json.loads(line[6:])
                break
        probe = _body(user="busy-sf", response_mode="blocking", conversation_id=str(uuid.uuid4()))
        resp = await client.post("/v1/chat-messages", json=probe, headers=auth(key))
        await client.post(
            f"/v1/chat-messages/{first['task_id']}/stop",
            json={"user": "busy-sf"},
            headers=auth(key),
        )
    finally:
        await running.aclose()
    assert resp.status_code == 429, resp.text
    assert resp.json()["code"] == "too_many_requests"
