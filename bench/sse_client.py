"""A minimal asyncio HTTP/1.1 + SSE client, lean enough to read hundreds of streams at once.

It times events as they arrive: one ``POST``, ``Connection: close``, chunked or
close-delimited bodies, events split on blank lines, ``data:`` lines only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

# Maps one event's data payload to "message", "end", "error" or None (ignored).
Classifier = Callable[[bytes], str | None]


def classify_dify(data: bytes) -> str | None:
    """Dify Service API events: non-empty ``message`` answers, ``message_end``, ``error``."""
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "error"
    kind = event.get("event")
    if kind == "message":
        return "message" if event.get("answer") else None
    if kind == "message_end":
        return "end"
    if kind == "error":
        return "error"
    return None


def classify_openai(data: bytes) -> str | None:
    """OpenAI chat chunks: chunks with non-empty content, then ``[DONE]``."""
    if data == b"[DONE]":
        return "end"
    event = orjson.loads(data)
    if "error" in event:
        return "error"
    for choice in event.get("choices") or ():
        if (choice.get("delta") or {}).get("content"):
            return "message"
    return None


@dataclass
class StreamResult:
    sent_at: float = 0.0  # perf_counter() just before the request was written
    status: int = 0
    message_times: list[float] = field(default_factory=list)  # arrival of each message event
    end: bool = False  # the stream's closing event arrived
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.end and self.error is None

    @property
    def first_message(self) -> float | None:
        return self.message_times[0] - self.sent_at if self.message_times else None


async def stream(
    host: str,
    port: int,
    path: str,
    body: bytes,
    classify: Classifier,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> StreamResult:
    """POST ``body`` and read the SSE answer to its end; never raises (see ``error``)."""
    result = StreamResult()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            lines = [f"POST {path} HTTP/1.1", f"host: {host}:{port}", "connection: close"]
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
            result.sent_at = time.perf_counter()
            writer.write(request)
            await _read_response(reader, result, classify)
    except TimeoutError:
        result.error = "timeout"
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    if result.error is None and not result.end:
        result.error = "stream ended without its closing event"
    return result


async def _read_response(
    reader: asyncio.StreamReader, result: StreamResult, classify: Classifier
) -> None:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
    result.status = int(head.split(" ", 2)[1])
    chunked = "transfer-encoding: chunked" in head
    if result.status != 200:
        payload = await reader.read(2000)
        result.error = f"HTTP {result.status}: {payload[:300].decode(errors='replace')}"
        return
    buffer = b""
    while True:
        if chunked:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                return
            data = (await reader.readexactly(size + 2))[:-2]
        else:
            data = await reader.read(65536)
            if not data:
                return
        now = time.perf_counter()
        buffer += data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        while (cut := buffer.find(b"\n\n")) >= 0:
            event, buffer = buffer[:cut], buffer[cut + 2 :]
            for line in event.split(b"\n"):
                if not line.startswith(b"data:"):
                    continue
                kind = classify(line[5:].strip())
                if kind == "message":
                    result.message_times.append(now)
                elif kind == "end":
                    result.end = True
                elif kind == "error":
                    result.error = f"error event: {line[5:305].decode(errors='replace')}"
            if result.end or result.error:
                return
