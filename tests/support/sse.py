"""Read a Dify SSE stream exactly as a client parses it."""

import json
from typing import Any

import httpx


def parse_frames(raw: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for frame in raw.split("\n\n"):
        if not frame.strip():
            continue
        if frame == "event: ping":
            events.append({"event": "ping"})
            continue
        assert frame.startswith("data: "), f"unexpected frame {frame!r}"
        events.append(json.loads(frame[len("data: ") :]))
    return events


async def read_stream(response: httpx.Response) -> tuple[str, list[dict[str, Any]]]:
    raw = (await response.aread()).decode()
    return raw, parse_frames(raw)


def answer_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["answer"] for e in events if e["event"] in ("message", "agent_message"))
