"""Auto-play text to speech in chat streams: `tts_message` / `tts_message_end` events,
sentence-batched as Dify's TTS publisher does, interleaved, possibly after `message_end`."""

import base64
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_audio import speech_bytes
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, read_stream

OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}
AUTO_PLAY = {"enabled": True, "voice": "nova", "language": "", "autoPlay": "enabled"}
CHUNKS = ["One. ", "Two. ", "Three! ", "Four? ", "Five. ", "Six"]
# 2 sentences make the first batch, then 3, then whatever is left at the end.
BATCHES = ["One. Two.", "Three! Four? Five.", "Six"]
TTS_FIELDS = ["event", "conversation_id", "message_id", "created_at", "task_id", "audio"]


async def _stream(
    client: httpx.AsyncClient, key: str, path: str = "/v1/chat-messages", **extra: Any
) -> list[dict[str, Any]]:
    body = {"inputs": {}, "query": "Count", "response_mode": "streaming", "user": "tts-u"}
    body |= {"auto_generate_name": False, **extra}
    async with client.stream("POST", path, json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    return [e for e in events if e["event"] != "ping"]


def _audio(events: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in events if e["event"] == "tts_message")


def _speech_inputs(upstream: FakeUpstream) -> list[str]:
    return [r["input"] for r in upstream.requests if r["_path"] == "/v1/audio/speech"]


async def test_stream_carries_sentence_batched_audio(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = CHUNKS
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech=AUTO_PLAY))
    events = await _stream(client, key)
    kinds = [e["event"] for e in events]
    assert answer_of(events) == "".join(CHUNKS)
    assert "message_end" in kinds and kinds[-1] == "tts_message_end"
    assert kinds.count("tts_message_end") == 1
    # Batches are synthesised in parallel, so they reach the upstream in any order;
    # the audio bytes below prove they are relayed in sentence order.
    assert sorted(_speech_inputs(upstream)) == sorted(BATCHES)
    assert _audio(events) == b"".join(speech_bytes(text, "nova") for text in BATCHES)
    end = events[-1]
    first = next(e for e in events if e["event"] == "message")
    for event in (end, next(e for e in events if e["event"] == "tts_message")):
        assert list(event) == TTS_FIELDS
        for name in ("conversation_id", "message_id", "created_at", "task_id"):
            assert event[name] == first[name]
    assert end["audio"] == ""


@pytest.mark.parametrize(
    "tts",
    [
        {"enabled": True, "voice": "nova", "autoPlay": "disabled"},
        {"enabled": False, "voice": "nova", "autoPlay": "enabled"},
        None,
    ],
)
async def test_no_audio_events_without_auto_play(
    client: httpx.AsyncClient, upstream: FakeUpstream, tts: dict[str, Any] | None
) -> None:
    upstream.behaviour.chunks = CHUNKS
    extra = {"text_to_speech": tts} if tts is not None else {}
    _, key = await make_app(chat_dsl(**OPENAI, **extra))
    events = await _stream(client, key)
    assert [e["event"] for e in events][-1] == "message_end"
    assert not any(e["event"].startswith("tts") for e in events)
    assert _speech_inputs(upstream) == []


async def test_blocking_answers_without_speaking(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = CHUNKS
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech=AUTO_PLAY))
    body = {"inputs": {}, "query": "Count", "response_mode": "blocking", "user": "tts-u"}
    body["auto_generate_name"] = False
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200 and resp.json()["answer"] == "".join(CHUNKS)
    assert _speech_inputs(upstream) == []


async def test_audio_may_follow_message_end(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = CHUNKS
    upstream.behaviour.audio_delay = 0.05
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech=AUTO_PLAY))
    events = await _stream(client, key)
    kinds = [e["event"] for e in events]
    end = kinds.index("message_end")
    assert "tts_message" in kinds[end:]
    assert kinds[-1] == "tts_message_end"
    assert _audio(events) == b"".join(speech_bytes(text, "nova") for text in BATCHES)


async def test_speech_failure_ends_audio_not_the_answer(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.chunks = CHUNKS
    upstream.behaviour.audio_status = 500
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech=AUTO_PLAY))
    events = await _stream(client, key)
    kinds = [e["event"] for e in events]
    assert answer_of(events) == "".join(CHUNKS)
    assert "tts_message" not in kinds
    assert kinds[-2:] == ["message_end", "tts_message_end"]


async def test_idle_audio_times_out(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "tts_auto_play_timeout", 0.2)
    upstream.behaviour.chunks = ["Short."]
    upstream.behaviour.audio_delay = 3.0
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech=AUTO_PLAY))
    events = await _stream(client, key)
    assert [e["event"] for e in events][-2:] == ["message_end", "tts_message_end"]


async def test_answer_error_still_closes_the_audio(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    upstream.behaviour.status = 500
    _, key = await make_app(chat_dsl(**OPENAI, text_to_speech=AUTO_PLAY))
    events = await _stream(client, key)
    assert [e["event"] for e in events] == ["error", "tts_message_end"]
    assert _speech_inputs(upstream) == []


async def test_completion_and_offline_audio(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "text_to_speech_model", "kiln/silent-tts")
    _, key = await make_app(chat_dsl(mode="completion", text_to_speech=AUTO_PLAY))
    events = await _stream(client, key, "/v1/completion-messages", query="Hello. Bye.")
    audio = [e for e in events if e["event"].startswith("tts")]
    assert audio and audio[-1]["event"] == "tts_message_end"
    assert all("conversation_id" not in e for e in audio)
    assert _audio(events).startswith(b"RIFF")


async def test_advanced_chat_answers_carry_auto_play_audio(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Graph apps read `text_to_speech` from `workflow.features`."""
    from tests.support.dsl import graph_dsl

    start = {"id": "start", "type": "start", "variables": []}
    answer = {"id": "answer", "type": "answer", "answer": "".join(CHUNKS)}
    dsl = graph_dsl(
        "advanced-chat", [start, answer], [("start", "answer")], text_to_speech=AUTO_PLAY
    )
    _, key = await make_app(dsl)
    events = await _stream(client, key)
    kinds = [e["event"] for e in events]
    assert answer_of(events) == "".join(CHUNKS)
    assert kinds.index("message_end") < kinds.index("tts_message_end") == len(kinds) - 1
    spoken = " ".join(_speech_inputs(upstream))
    assert all(word.strip(" .!?") in spoken for word in CHUNKS)
    assert _audio(events)
