"""`POST /v1/audio-to-text` and `POST /v1/text-to-audio`: Dify's checks and errors, the
OpenAI-compatible calls (against the fake upstream) and the offline stand-ins."""

import io
import uuid
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.core.config import get_settings
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_audio import speech_bytes, transcript_for
from tests.support.fake_upstream import FakeUpstream

KEY_TAIL = "secret-key-123456"
STT_ON = {"speech_to_text": {"enabled": True}}
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dsl"
WAV_BYTES = b"RIFF" + bytes(range(256)) * 8


def _audio_requests(upstream: FakeUpstream) -> list[dict[str, Any]]:
    """Audio calls only (a late chat call of an earlier test may land here too)."""
    return [r for r in upstream.requests if r["_path"].startswith("/v1/audio/")]


def _tts(voice: str = "", **extra: Any) -> dict[str, Any]:
    return {"text_to_speech": {"enabled": True, "voice": voice, "language": "", **extra}}


async def _upload(
    client: httpx.AsyncClient,
    key: str,
    content: bytes = WAV_BYTES,
    mimetype: str = "audio/wav",
    user: str | None = "audio-user",
) -> httpx.Response:
    data = {"user": user} if user is not None else {}
    files = {"file": ("clip.wav", content, mimetype)}
    return await client.post("/v1/audio-to-text", data=data, files=files, headers=auth(key))


def _assert_error(resp: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["status"] == status, body
    if message is not None:
        assert body["message"] == message


# -- audio-to-text ------------------------------------------------------------------------
async def test_transcribes_through_the_openai_compatible_endpoint(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"text": transcript_for(WAV_BYTES, "audio/wav")}
    [request] = _audio_requests(upstream)
    assert request["_path"] == "/v1/audio/transcriptions"
    assert request["model"] == "whisper-1"
    assert request["file"]["filename"] == "audio.wav"
    assert request["file"]["content_type"] == "audio/wav"
    assert request["_content"] == WAV_BYTES
    assert request["_headers"]["authorization"].endswith(KEY_TAIL)


@pytest.mark.parametrize("mimetype", ["audio/mpeg", "audio/mp3", "audio/webm", "audio/m4a"])
async def test_every_dify_audio_type_is_accepted(
    client: httpx.AsyncClient, upstream: FakeUpstream, mimetype: str
) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key, mimetype=mimetype)
    assert resp.status_code == 200, resp.text
    assert _audio_requests(upstream)[-1]["file"]["content_type"] == mimetype


async def test_feature_off_is_dify_invalid_param(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(speech_to_text={"enabled": False}))
    resp = await _upload(client, key)
    _assert_error(resp, 400, "invalid_param", "Speech to text is not enabled")
    assert _audio_requests(upstream) == []


@pytest.mark.parametrize("mimetype", ["audio/ogg", "text/plain", "application/octet-stream"])
async def test_unsupported_type_is_415(
    client: httpx.AsyncClient, upstream: FakeUpstream, mimetype: str
) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key, mimetype=mimetype)
    _assert_error(resp, 415, "unsupported_audio_type", "Audio type not allowed.")
    assert _audio_requests(upstream) == []


async def test_audio_over_30_mb_is_413(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key, content=b"\x00" * (30 * 1024 * 1024 + 1))
    _assert_error(resp, 413, "audio_too_large", "Audio size larger than 30 mb")
    assert _audio_requests(upstream) == []


async def test_missing_file_part_is_werkzeugs_key_error(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await client.post(
        "/v1/audio-to-text",
        data={"user": "u"},
        files={"other": ("x.wav", b"1", "audio/wav")},
        headers=auth(key),
    )
    _assert_error(resp, 400, "bad_request_key_error")
    resp = await client.post("/v1/audio-to-text", json={"user": "u"}, headers=auth(key))
    _assert_error(resp, 400, "bad_request_key_error")


async def test_empty_upload_is_no_audio_uploaded(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key, content=b"")
    _assert_error(resp, 400, "no_audio_uploaded", "Please upload your audio.")


@pytest.mark.parametrize("status", [400, 429, 500])
async def test_upstream_failure_is_completion_request_error_without_the_key(
    client: httpx.AsyncClient, upstream: FakeUpstream, status: int
) -> None:
    upstream.behaviour.audio_status = status
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key)
    _assert_error(resp, 400, "completion_request_error")
    assert f"Error code: {status}" in resp.json()["message"]
    assert KEY_TAIL not in resp.text


async def test_missing_credentials_is_provider_not_initialize(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key)
    _assert_error(resp, 400, "provider_not_initialize")
    assert "OPENAI_API_KEY" in resp.json()["message"]


async def test_no_speech_to_text_model(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "speech_to_text_model", "none")
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key)
    _assert_error(
        resp, 400, "provider_not_support_speech_to_text", "Provider not support speech to text."
    )


async def test_offline_echo_stt(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "speech_to_text_model", "kiln/echo-stt")
    _, key = await make_app(chat_dsl(**STT_ON))
    resp = await _upload(client, key, content=b"abc", mimetype="audio/mpeg", user=None)
    assert resp.status_code == 200, resp.text
    text = resp.json()["text"]
    assert text.startswith("[kiln echo-stt] 3 bytes of audio/mpeg, sha256 ba7816bf8f01")


async def test_advanced_chat_reads_the_workflow_features(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    document = yaml.safe_load((FIXTURES / "advanced_chat_v0_3_1.yml").read_text())
    _, key = await make_app(yaml.safe_dump(document))
    resp = await _upload(client, key)
    _assert_error(resp, 400, "invalid_param", "Speech to text is not enabled")
    document["workflow"]["features"]["speech_to_text"]["enabled"] = True
    _, key = await make_app(yaml.safe_dump(document))
    resp = await _upload(client, key)
    assert resp.status_code == 200, resp.text


# -- text-to-audio ------------------------------------------------------------------------
async def _speak(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/v1/text-to-audio", json={"user": "tts-user", **body}, headers=auth(key)
    )


async def test_speaks_text_with_the_apps_voice(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**_tts("nova")))
    resp = await _speak(client, key, {"text": "  Hello there.  ", "streaming": False})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "audio/mpeg"
    assert resp.content == speech_bytes("Hello there.", "nova")
    [request] = _audio_requests(upstream)
    assert request["_path"] == "/v1/audio/speech"
    assert {k: request[k] for k in ("model", "input", "voice", "response_format")} == {
        "model": "tts-1",
        "input": "Hello there.",
        "voice": "nova",
        "response_format": "mp3",
    }


async def test_request_voice_wins_and_default_voice_fills_in(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**_tts("nova")))
    resp = await _speak(client, key, {"text": "Hi", "voice": "echo"})
    assert resp.content == speech_bytes("Hi", "echo")
    _, key = await make_app(chat_dsl(**_tts("")))
    resp = await _speak(client, key, {"text": "Hi"})
    assert resp.content == speech_bytes("Hi", "alloy")


async def test_long_text_is_spoken_in_pieces_in_order(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**_tts("nova")))
    text = " ".join(f"Sentence number {i} is here." for i in range(300))
    resp = await _speak(client, key, {"text": text})
    assert resp.status_code == 200
    inputs = [r["input"] for r in _audio_requests(upstream)]
    assert len(inputs) > 1 and all(len(i) <= 4000 for i in inputs)
    assert " ".join(inputs) == text
    assert resp.content == b"".join(speech_bytes(i, "nova") for i in inputs)


async def test_speaks_a_message_of_the_same_user_only(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**_tts("nova")))
    body = {"inputs": {}, "query": "Say hi", "response_mode": "blocking", "user": "tts-user"}
    body["auto_generate_name"] = False
    answer = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    message = answer.json()
    resp = await _speak(client, key, {"message_id": message["message_id"], "text": "ignored"})
    assert resp.status_code == 200, resp.text
    assert resp.content == speech_bytes(message["answer"], "nova")
    other = await client.post(
        "/v1/text-to-audio",
        json={"message_id": message["message_id"], "user": "someone-else"},
        headers=auth(key),
    )
    # A message Kiln cannot find is Dify's 404 (Dify: `null`, README's deliberate
    # differences); another user's reads the same.
    not_found = {"code": "not_found", "message": "Message Not Exists.", "status": 404}
    assert other.status_code == 404 and other.json() == not_found
    missing = await _speak(client, key, {"message_id": str(uuid.uuid4())})
    assert missing.status_code == 404 and missing.json() == not_found


async def test_tts_errors(client: httpx.AsyncClient, upstream: FakeUpstream) -> None:
    _, key = await make_app(chat_dsl(text_to_speech={"enabled": False}))
    _assert_error(
        await _speak(client, key, {"text": "Hi"}), 400, "invalid_param", "TTS is not enabled"
    )
    _, key = await make_app(chat_dsl(**_tts()))
    _assert_error(await _speak(client, key, {}), 400, "invalid_param", "Text is required")
    resp = await client.post(
        "/v1/text-to-audio", content=b"text=hi", headers=auth(key) | {"content-type": "text/plain"}
    )
    _assert_error(resp, 415, "unsupported_media_type")
    upstream.behaviour.audio_status = 401
    resp = await _speak(client, key, {"text": "Hi"})
    _assert_error(resp, 400, "completion_request_error")
    assert KEY_TAIL not in resp.text


async def test_offline_silent_tts_is_a_real_wav(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "text_to_speech_model", "kiln/silent-tts")
    _, key = await make_app(chat_dsl(**_tts()))
    resp = await _speak(client, key, {"text": "one two three four five six"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(resp.content)) as audio:
        assert audio.getnchannels() == 1
        assert audio.getnframes() == int(audio.getframerate() * 0.3)


async def test_other_providers_go_through_litellm(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-vllm-secret-987654321"
    monkeypatch.setenv("VLLM_API_BASE", upstream.base_url)
    monkeypatch.setenv("VLLM_API_KEY", secret)
    monkeypatch.setattr(get_settings(), "speech_to_text_model", "vllm/whisper-x")
    monkeypatch.setattr(get_settings(), "text_to_speech_model", "vllm/tts-x")
    _, key = await make_app(chat_dsl(**STT_ON, **_tts("nova")))
    resp = await _upload(client, key, mimetype="audio/mpeg")
    assert resp.status_code == 200, resp.text
    assert resp.json()["text"].startswith(f"fake transcript of {len(WAV_BYTES)} bytes")
    assert _audio_requests(upstream)[-1]["model"] == "whisper-x"
    resp = await _speak(client, key, {"text": "Hello."})
    assert resp.status_code == 200 and resp.content == speech_bytes("Hello.", "nova")
    assert _audio_requests(upstream)[-1]["model"] == "tts-x"
    upstream.behaviour.audio_status = 500
    resp = await _speak(client, key, {"text": "Hello."})
    _assert_error(resp, 400, "completion_request_error")
    assert secret not in resp.text
