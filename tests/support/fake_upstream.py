"""A local OpenAI-compatible server for tests and the stream benchmark (loopback only).

A raw asyncio HTTP/1.1 server: cheap enough to hold hundreds of concurrent streams.

In-process use (tests)::

    with FakeUpstream() as upstream:
        upstream.behaviour.n_chunks = 3
        ...  # point the code under test at upstream.base_url

Misbehaviour (chat and legacy completions): ``answer_200`` makes a 200 that is not an
event stream (``empty``, plain ``json``, ``json_error``, binary ``garbage``, an ``html``
page); a non-200 ``status`` answers an error whose message is ``error_message`` or, with
``error_page``, the HTML page a proxy in front of a provider would send.

Moderation: ``POST /v1/moderations`` flags every input containing ``MODERATION_MARKER``
(recorded in ``requests``; a non-200 ``status`` answers an error body).

Audio (see tests/support/fake_audio.py): ``POST /v1/audio/transcriptions`` answers a
transcript derived from the upload, ``POST /v1/audio/speech`` streams deterministic bytes;
both are recorded in ``requests`` and follow ``audio_status`` / ``audio_delay``.

Tool calls: with ``behaviour.tool_calls`` set (``[{"name": ..., "arguments": "<json>"}]``),
a chat completion that offered ``tools`` streams those calls OpenAI's way instead of text
(id and name first, then the arguments in fragments; ``finish_reason`` ``tool_calls``).

Embeddings: ``POST /v1/embeddings`` answers deterministic 64-dimension bag-of-words
vectors (one per input), recorded in ``requests``, following ``embedding_status`` /
``embedding_delay``.

Rerank: ``POST /v1/rerank`` (Cohere's shape, as Jina and others answer it) scores each
document by the share of the query's words it holds, recorded in ``requests``; answers
``rerank_status`` errors, or ``rerank_answer`` "data" (Voyage's key) or "garbage".

As a process (benchmark)::

    python -m tests.support.fake_upstream --port 18080 --n-chunks 200 --delay 0.01

prints ``READY http://127.0.0.1:PORT/v1`` once listening and runs until killed.
Besides the OpenAI endpoints it answers ``GET /_control/stats`` (counters) and
``POST /_control/behaviour`` (JSON fields of :class:`UpstreamBehaviour` to change;
``{"reset": true}`` first restores the defaults and clears requests and counters).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from tests.support import fake_audio

logger = logging.getLogger(__name__)
_MAX_HEADER_BYTES = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}
_COMPLETION_PATHS = ("/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions")
_MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-3.5-turbo-instruct")
_AUDIO_PATHS = fake_audio.TRANSCRIPTION_PATHS + fake_audio.SPEECH_PATHS
_EMBEDDING_PATHS = ("/v1/embeddings", "/embeddings")
_EMBEDDING_DIMENSIONS = 64
_MODERATION_PATHS = ("/v1/moderations", "/moderations")
_RERANK_PATHS = ("/v1/rerank", "/rerank")
MODERATION_MARKER = "flagme"  # /v1/moderations flags any input containing it (any case)


@dataclass
class UpstreamBehaviour:
    """How the next requests are answered; may be changed while the server runs."""

    chunks: list[str] | None = None  # None => "Hello" + " word" * (n_chunks - 1)
    n_chunks: int = 5
    delay: float = 0.0  # seconds between chunks
    first_delay: float = 0.0  # seconds before the first chunk (or before any answer)
    hold_completions: bool = False  # (chat) completions answers wait while this is True
    # Streams stop after this many content chunks and wait there while it is set (a stream
    # held open mid-answer); setting it back to None releases them.
    hold_after: int | None = None
    # After a stream's [DONE]: "end" the chunked body, "stall" (never end it) or "close" the
    # connection without ending it (peers that misbehave once the answer is complete).
    after_done: str = "end"
    status: int = 200  # non-200 => OpenAI error body with this status
    error_message: str | None = None  # the error body's message (default: a fixed text)
    error_page: bool = False  # a non-200 completions answer is a proxy's HTML page instead
    # A 200 completions answer that is not an event stream: "empty", "json" (the whole
    # completion as plain JSON), "json_error" (an OpenAI error object), "garbage" (binary
    # bytes) or "html" (a portal's page); "stream" (the default) streams as asked.
    answer_200: str = "stream"
    include_usage: bool = True  # honour stream_options.include_usage
    fail_after: int | None = None  # abort the connection after N content chunks
    audio_status: int = 200  # non-200 => audio endpoints answer an OpenAI error body
    audio_delay: float = 0.0  # seconds before an audio answer (and between speech chunks)
    embedding_status: int = 200  # non-200 => the embeddings endpoint answers an error body
    embedding_delay: float = 0.0  # seconds before an embeddings answer
    hold_embeddings: bool = False  # embeddings answers wait while this is True
    rerank_status: int = 200  # non-200 => the rerank endpoint answers an error body
    rerank_answer: str = "results"  # "results" (Cohere, Jina), "data" (Voyage), "garbage"
    tool_calls: list[dict[str, str]] | None = None  # answered when the request offers tools

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return ["Hello"] + [" word"] * max(self.n_chunks - 1, 0)


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _count_words(value: Any) -> int:
    """A crude token count: whitespace-separated words in every piece of text."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    if isinstance(value, dict):
        if "text" in value:
            return _count_words(value["text"])
        if "content" in value:
            return _count_words(value["content"])
    return 0


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _fake_embedding(text: str) -> list[float]:
    """Words hashed into buckets (not normalised: the client must normalise)."""
    vector = [0.0] * _EMBEDDING_DIMENSIONS
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % _EMBEDDING_DIMENSIONS] += 2.0
    return vector


def _error_body(status: int, message: str | None = None) -> dict[str, Any]:
    kind, code = _ERROR_KINDS.get(status, ("server_error" if status >= 500 else "api_error", None))
    text = message or f"Fake upstream error (status {status})"
    return {"error": {"message": text, "type": kind, "param": None, "code": code}}


def _error_page(status: int) -> bytes:
    """The kind of page nginx or a cloud proxy answers when the provider behind it fails."""
    reason = _REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n"
        "<hr><center>nginx/1.25.3 at gateway.internal.example.com:8443</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


_NOT_A_STREAM: dict[str, tuple[str, bytes]] = {
    "empty": ("text/event-stream", b""),
    "json_error": (
        "application/json",
        _dumps(_error_body(500, "The server had an error while processing your request.")).encode(),
    ),
    "garbage": ("application/octet-stream", bytes(range(256)) * 4),
    "html": ("text/html", _error_page(200).replace(b"200 OK", b"Sign in to continue")),
}


class _Connection(asyncio.Protocol):
    """One client connection: requests are read and answered one at a time."""

    def __init__(self, server: FakeUpstream) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.closed = False
        self.paused = False
        self.timer_due = True
        self.waiter: asyncio.Future[None] | None = None

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.server._connections.add(self)
        self.server.connections_opened += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._next_request()

    def eof_received(self) -> bool | None:
        return None  # close our side too: a half-closed client is gone for streaming

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server._connections.discard(self)
        self._wake()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake()

    # -- helpers ------------------------------------------------------------
    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _on_timer(self) -> None:
        self.timer_due = True
        self._wake()

    async def _wait(self, deadline: float | None) -> bool:
        """Sleep until ``deadline`` (loop time), then on while writing is paused.

        Returns False as soon as the client has gone away. The deadline counts as reached
        when its timer fires (event loops may fire a timer a hair early: no re-check).
        """
        timer: asyncio.TimerHandle | None = None
        self.timer_due = deadline is None or deadline <= self.loop.time()
        if not self.timer_due:
            assert deadline is not None
            timer = self.loop.call_at(deadline, self._on_timer)
        try:
            while not self.closed and (self.paused or not self.timer_due):
                self.waiter = self.loop.create_future()
                await self.waiter
                self.waiter = None
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()
        return not self.closed

    def _write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def _next_request(self) -> None:
        try:
            request = self._parse()
        except ValueError:
            self._send_json(400, _error_body(400, "Malformed HTTP request"), keep_alive=False)
            return
        if request is None:
            return
        self.busy = True
        task = self.loop.create_task(self._handle(request))
        self.server._tasks.add(task)
        task.add_done_callback(self._request_done)

    def _request_done(self, task: asyncio.Task[None]) -> None:
        self.server._tasks.discard(task)
        self.busy = False
        error = None if task.cancelled() else task.exception()
        if error is not None:
            logger.error("fake upstream: request failed", exc_info=error)
            if self.transport is not None:
                self.transport.abort()
            return
        if not self.closed and self.buffer:
            self._next_request()

    def _parse(self) -> _Request | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > _MAX_HEADER_BYTES:
                raise ValueError("headers too large")
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            pos = start
            while True:
                eol = self.buffer.find(b"\r\n", pos)
                if eol < 0:
                    return None
                size = int(bytes(self.buffer[pos:eol]).split(b";")[0], 16)
                if len(self.buffer) < eol + 2 + size + 2:
                    return None
                body += self.buffer[eol + 2 : eol + 2 + size]
                pos = eol + 2 + size + 2
                if size == 0:
                    break
            del self.buffer[:pos]
            return _Request(method, target.split("?")[0], headers, bytes(body))
        length = int(headers.get("content-length", "0") or 0)
        if len(self.buffer) < start + length:
            return None
        body_bytes = bytes(self.buffer[start : start + length])
        del self.buffer[: start + length]
        return _Request(method, target.split("?")[0], headers, body_bytes)

    def _head(self, status: int, headers: list[tuple[str, str]], keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append(f"connection: {'keep-alive' if keep_alive else 'close'}")
        lines.append(f"date: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send_raw(self, status: int, content_type: str, body: bytes) -> None:
        """A whole answer, then the connection closes (as a proxy's error page does)."""
        head = [("content-type", content_type), ("content-length", str(len(body)))]
        self._write(self._head(status, head, keep_alive=False) + body)
        if self.transport is not None:
            self.transport.close()

    def _send_json(self, status: int, payload: Any, keep_alive: bool = True) -> None:
        body = _dumps(payload).encode()
        head = [("content-type", "application/json"), ("content-length", str(len(body)))]
        self._write(self._head(status, head, keep_alive) + body)
        if not keep_alive and self.transport is not None:
            self.transport.close()

    # -- request handling ------------------------------------------------------
    async def _handle(self, request: _Request) -> None:
        keep_alive = request.headers.get("connection", "").lower() != "close"
        if request.path.rstrip("/") in ("/v1/models", "/models") and request.method == "GET":
            self._send_json(200, self.server._models_payload(), keep_alive)
        elif request.path.startswith("/_control/"):
            self._send_json(200, self.server._control(request), keep_alive)
        elif request.method == "POST" and request.path.rstrip("/") in _COMPLETION_PATHS:
            await self._completion(request, keep_alive)
        elif request.method == "POST" and request.path.rstrip("/") in _AUDIO_PATHS:
            await self._audio(request, keep_alive)
        elif request.method == "POST" and request.path.rstrip("/") in _EMBEDDING_PATHS:
            await self._embeddings(request, keep_alive)
        elif request.method == "POST" and request.path.rstrip("/") in _MODERATION_PATHS:
            self._moderation(request, keep_alive)
        elif request.method == "POST" and request.path.rstrip("/") in _RERANK_PATHS:
            self._rerank(request, keep_alive)
        else:
            message = f"Unknown request URL: {request.method} {request.path}"
            self._send_json(404, _error_body(404, message) | {"_fake": True}, keep_alive)
        if not keep_alive and self.transport is not None:
            self.transport.close()

    def _recorded_json(self, request: _Request, keep_alive: bool) -> dict[str, Any] | None:
        """The request's JSON object, recorded in ``requests``; None after answering a 400."""
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._send_json(400, _error_body(400, "Invalid JSON body"), keep_alive)
            return None
        self.server.requests.append(
            body | {"_path": request.path, "_headers": dict(request.headers)}
        )
        return body

    async def _held(self, held: Callable[[], bool]) -> bool:
        """Wait while ``held()``; False if the client went away meanwhile."""
        while held():
            if not await self._wait(self.loop.time() + 0.01):
                return False
        return True

    async def _completion(self, request: _Request, keep_alive: bool) -> None:
        body = self._recorded_json(request, keep_alive)
        if body is None:
            return
        behaviour = self.server.behaviour
        legacy = not request.path.rstrip("/").endswith("chat/completions")
        if behaviour.first_delay > 0 and not await self._wait(
            self.loop.time() + behaviour.first_delay
        ):
            return
        if not await self._held(lambda: self.server.behaviour.hold_completions):
            return
        if behaviour.status != 200:
            if behaviour.error_page:
                self._send_raw(behaviour.status, "text/html", _error_page(behaviour.status))
                return
            error = _error_body(behaviour.status, behaviour.error_message)
            self._send_json(behaviour.status, error, keep_alive)
            return
        if behaviour.answer_200 not in ("stream", "json"):
            self._send_raw(200, *_NOT_A_STREAM[behaviour.answer_200])
            return
        text_in = body.get("prompt") if legacy else body.get("messages")
        prompt_tokens = _count_words(text_in)
        model = str(body.get("model") or _MODELS[0])
        pieces = behaviour.pieces()
        if body.get("stream") and body.get("tools") and behaviour.tool_calls and not legacy:
            await self._stream_tool_calls(behaviour.tool_calls, model, keep_alive)
            return
        if body.get("stream") and behaviour.answer_200 == "stream":
            options = body.get("stream_options") or {}
            usage = bool(options.get("include_usage")) and behaviour.include_usage
            self.server.active_streams += 1
            try:
                await self._stream(
                    behaviour, legacy, model, pieces, prompt_tokens, usage, keep_alive
                )
            finally:
                self.server.active_streams -= 1
            return
        created = int(time.time())
        text = "".join(pieces)
        payload: dict[str, Any]
        if legacy:
            payload = {
                "id": f"cmpl-{uuid.uuid4().hex[:24]}",
                "object": "text_completion",
                "created": created,
                "model": model,
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
            }
        else:
            message = {"role": "assistant", "content": text, "refusal": None}
            payload = {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
                ],
            }
        payload["usage"] = _usage(prompt_tokens, len(pieces))
        payload["system_fingerprint"] = "fp_fake"
        self._send_json(200, payload, keep_alive)

    async def _embeddings(self, request: _Request, keep_alive: bool) -> None:
        body = self._recorded_json(request, keep_alive)
        if body is None:
            return
        behaviour = self.server.behaviour
        delay = behaviour.embedding_delay
        if delay > 0 and not await self._wait(self.loop.time() + delay):
            return
        if not await self._held(lambda: self.server.behaviour.hold_embeddings):
            return
        status = behaviour.embedding_status
        if status != 200:
            self._send_json(status, _error_body(status), keep_alive)
            return
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        data = [
            {"object": "embedding", "index": i, "embedding": _fake_embedding(str(text))}
            for i, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": _count_words(texts), "total_tokens": _count_words(texts)}
        payload = {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        self._send_json(200, payload, keep_alive)

    def _rerank(self, request: _Request, keep_alive: bool) -> None:
        body = self._recorded_json(request, keep_alive)
        if body is None:
            return
        behaviour = self.server.behaviour
        if behaviour.rerank_status != 200:
            self._send_json(behaviour.rerank_status, _error_body(behaviour.rerank_status))
            return
        if behaviour.rerank_answer == "garbage":
            self._send_json(200, {"results": [{"index": "first"}]}, keep_alive)
            return
        wanted = set(str(body.get("query") or "").lower().split())
        scored = [
            {
                "index": i,
                "relevance_score": len(wanted & set(str(doc).lower().split()))
                / len(wanted or {""}),
            }
            for i, doc in enumerate(body.get("documents") or [])
        ]
        scored.sort(key=lambda item: -float(item["relevance_score"]))
        self._send_json(
            200, {behaviour.rerank_answer: scored, "model": body.get("model")}, keep_alive
        )

    async def _audio(self, request: _Request, keep_alive: bool) -> None:
        behaviour = self.server.behaviour
        speech = request.path.rstrip("/") in fake_audio.SPEECH_PATHS
        if speech:
            body = self._recorded_json(request, keep_alive)
            if body is None:
                return
        else:
            record = fake_audio.transcription_record(request.path, request.headers, request.body)
            self.server.requests.append(record)
        delay = behaviour.audio_delay
        if delay > 0 and not await self._wait(self.loop.time() + delay):
            return
        if behaviour.audio_status != 200:
            self._send_json(behaviour.audio_status, _error_body(behaviour.audio_status), keep_alive)
            return
        if not speech:
            if "file" not in record:
                self._send_json(400, _error_body(400, "No file part"), keep_alive)
                return
            text = fake_audio.transcript_for(record["_content"], record["file"]["content_type"])
            self._send_json(200, {"text": text}, keep_alive)
            return
        audio = fake_audio.speech_bytes(str(body.get("input", "")), str(body.get("voice", "")))
        headers = [("content-type", "audio/mpeg"), ("transfer-encoding", "chunked")]
        self._write(self._head(200, headers, keep_alive))
        step = fake_audio.SPEECH_CHUNK
        for start in range(0, len(audio), step):
            if start and delay > 0 and not await self._wait(self.loop.time() + delay):
                return
            piece = audio[start : start + step]
            self._write(b"%x\r\n%b\r\n" % (len(piece), piece))
        self._write(b"0\r\n\r\n")

    def _moderation(self, request: _Request, keep_alive: bool) -> None:
        """OpenAI's moderation shape; flagged when the text holds MODERATION_MARKER."""
        body = self._recorded_json(request, keep_alive)
        if body is None:
            return
        status = self.server.behaviour.status
        if status != 200:
            self._send_json(status, _error_body(status), keep_alive)
            return
        texts = body.get("input")
        texts = texts if isinstance(texts, list) else [texts]
        results = []
        for text in texts:
            flagged = MODERATION_MARKER in str(text).lower()
            results.append(
                {"flagged": flagged, "categories": {"violence": flagged}, "category_scores": {}}
            )
        payload = {
            "id": f"modr-{uuid.uuid4().hex[:24]}",
            "model": body.get("model"),
            "results": results,
        }
        self._send_json(200, payload, keep_alive)

    async def _stream_tool_calls(
        self, calls: list[dict[str, str]], model: str, keep_alive: bool
    ) -> None:
        """Each call's id and name in one delta, its arguments in two more, then the finish
        reason, usage and [DONE]."""
        base = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _sse(_dumps(base | {"choices": [choice]}))

        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("transfer-encoding", "chunked"),
            ("cache-control", "no-cache"),
        ]
        out = self._head(200, headers, keep_alive)
        out += chunk({"role": "assistant", "content": None})
        for index, call in enumerate(calls):
            head = {"index": index, "id": f"call_{index}", "type": "function"}
            out += chunk(
                {"tool_calls": [head | {"function": {"name": call["name"], "arguments": ""}}]}
            )
            arguments = call.get("arguments", "")
            middle = len(arguments) // 2
            for part in (arguments[:middle], arguments[middle:]):
                out += chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
        out += chunk({}, "tool_calls")
        out += _sse(_dumps(base | {"choices": [], "usage": _usage(5, 2)}))
        self._write(out + _sse("[DONE]") + b"0\r\n\r\n")

    async def _stream(
        self,
        behaviour: UpstreamBehaviour,
        legacy: bool,
        model: str,
        pieces: list[str],
        prompt_tokens: int,
        usage: bool,
        keep_alive: bool,
    ) -> None:
        created = int(time.time())
        base: dict[str, Any] = {
            "id": f"{'cmpl' if legacy else 'chatcmpl'}-{uuid.uuid4().hex[:24]}",
            "object": "text_completion" if legacy else "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
        }
        tail = ',"usage":null}' if usage else "}"

        def chunk(choice: dict[str, Any] | None) -> bytes:
            event = base | {"choices": [choice] if choice is not None else []}
            return _sse(_dumps(event)[:-1] + tail)

        if legacy:
            text_choice = {"text": "", "index": 0, "logprobs": None, "finish_reason": None}
            head, _, end = _dumps(base | {"choices": [text_choice]}).partition('"text":""')
            first: bytes | None = None
        else:
            delta_choice = {"index": 0, "delta": {"content": ""}, "logprobs": None}
            delta_choice["finish_reason"] = None
            head, _, end = _dumps(base | {"choices": [delta_choice]}).partition('"content":""')
            role = {"role": "assistant", "content": "", "refusal": None}
            first = chunk({"index": 0, "delta": role, "logprobs": None, "finish_reason": None})
        head += '"text":' if legacy else '"content":'
        end = end[:-1] + tail
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("transfer-encoding", "chunked"),
            ("cache-control", "no-cache"),
        ]
        self._write(self._head(200, headers, keep_alive) + (first or b""))
        delay = behaviour.delay
        next_at = self.loop.time()
        for index, piece in enumerate(pieces):
            if behaviour.hold_after is not None and index == behaviour.hold_after:
                if not await self._held(lambda: self.server.behaviour.hold_after is not None):
                    self.server.streams_closed_early += 1
                    return
                next_at = self.loop.time()
            if behaviour.fail_after is not None and index >= behaviour.fail_after:
                await self._wait(None)
                self.server.streams_aborted += 1
                if self.transport is not None:
                    self.transport.close()  # flush what was sent, then drop mid-body
                return
            if index > 0 and delay > 0:
                next_at += delay
                ok = await self._wait(next_at)
            else:
                ok = await self._wait(None)
                if ok and delay <= 0:
                    await asyncio.sleep(0)  # let a client disconnect be noticed
                    ok = not self.closed
            if not ok:
                self.server.streams_closed_early += 1
                return
            self._write(_sse(head + json.dumps(piece, ensure_ascii=False) + end))
        if legacy:
            final = {"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}
        else:
            final = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
        out = chunk(final)
        if usage:
            event = base | {"choices": [], "usage": _usage(prompt_tokens, len(pieces))}
            out += _sse(_dumps(event))
        if not await self._wait(None):
            self.server.streams_closed_early += 1
            return
        self.server.streams_completed += 1  # before the write: whoever saw the end sees it
        ending = b"0\r\n\r\n" if behaviour.after_done == "end" else b""
        self._write(out + _sse("[DONE]") + ending)
        if behaviour.after_done == "close" and self.transport is not None:
            self.transport.close()


def _sse(data: str) -> bytes:
    """One SSE event as one HTTP chunk."""
    payload = f"data: {data}\n\n".encode()
    return b"%x\r\n%b\r\n" % (len(payload), payload)


class FakeUpstream:
    """An OpenAI-compatible server on its own event loop in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.behaviour = UpstreamBehaviour()
        self.requests: list[dict[str, Any]] = []
        self.streams_closed_early = 0
        self.streams_completed = 0
        self.streams_aborted = 0  # streams cut by ``fail_after``
        self.active_streams = 0  # streams being sent right now
        self.connections_opened = 0  # TCP connections accepted (keep-alive reuse shows here)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def reset(self) -> None:
        self.behaviour = UpstreamBehaviour()
        self.requests.clear()
        self.streams_closed_early = 0
        self.streams_completed = 0
        self.streams_aborted = 0
        self.connections_opened = 0

    def stats(self) -> dict[str, int]:
        return {
            "requests": len(self.requests),
            "streams_completed": self.streams_completed,
            "streams_closed_early": self.streams_closed_early,
            "streams_aborted": self.streams_aborted,
            "active_streams": self.active_streams,
            "connections_opened": self.connections_opened,
        }

    # -- serving -------------------------------------------------------------
    async def serve(self) -> asyncio.Server:
        """Start listening on the running loop (the port is known when this returns)."""
        self._loop = asyncio.get_running_loop()
        self._server = await self._loop.create_server(
            lambda: _Connection(self), self.host, self.port, backlog=2048
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self._server

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)
        if self._server is not None:
            await self._server.wait_closed()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("FakeUpstream already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.serve())
            except BaseException as exc:  # surfaced in start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.aclose())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise failure[0]

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FakeUpstream:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- small endpoints --------------------------------------------------------
    def _models_payload(self) -> dict[str, Any]:
        data = [
            {"id": name, "object": "model", "created": 1700000000, "owned_by": "system"}
            for name in _MODELS
        ]
        return {"object": "list", "data": data}

    def _control(self, request: _Request) -> dict[str, Any]:
        if request.method == "POST" and request.path == "/_control/behaviour":
            changes = json.loads(request.body or b"{}")
            if changes.pop("reset", False):
                self.reset()
            fields = {f.name for f in dataclasses.fields(UpstreamBehaviour)}
            for name, value in changes.items():
                if name in fields:
                    setattr(self.behaviour, name, value)
        return self.stats() | {"behaviour": dataclasses.asdict(self.behaviour)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--n-chunks", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--first-delay", type=float, default=0.0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--no-usage", action="store_true")
    parser.add_argument("--fail-after", type=int, default=None)
    args = parser.parse_args(argv)
    upstream = FakeUpstream(args.host, args.port)
    upstream.behaviour = UpstreamBehaviour(
        n_chunks=args.n_chunks,
        delay=args.delay,
        first_delay=args.first_delay,
        status=args.status,
        include_usage=not args.no_usage,
        fail_after=args.fail_after,
    )

    async def run() -> None:
        server = await upstream.serve()
        sys.stdout.write(f"READY {upstream.base_url}\n")
        sys.stdout.flush()
        await server.serve_forever()

    try:
        import uvloop
    except ImportError:
        uvloop = None
    with contextlib.suppress(KeyboardInterrupt):
        if uvloop is not None:
            uvloop.run(run())
        else:
            asyncio.run(run())


if __name__ == "__main__":
    main()
