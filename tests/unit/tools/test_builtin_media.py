"""Audio and image tools through the model gateway: tts on the offline speech model,
dalle2/dalle3 on the offline image stand-in and on a loopback OpenAI-compatible images
API (the request Kiln sends, b64 and URL answers, errors)."""

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.core.config import Settings
from app.gateway.gateway import ModelGateway
from app.gateway.images import grey_png, openai_images
from app.gateway.providers import resolve
from app.gateway.types import UpstreamAuthFailed
from app.integrations.tools.base import ToolError
from tests.unit.tools.support import CALL, ref, toolbox

OFFLINE = Settings(text_to_speech_model="kiln/silent-tts", image_generation_provider="kiln")


async def test_tts_speaks_through_the_gateway() -> None:
    box = toolbox(gateway=ModelGateway(OFFLINE))
    output = await box.invoke(
        ref("audio", "tts"), {"text": "Hello kiln", "model": "openai#tts-1"}, CALL
    )
    assert output.text == "Audio generated successfully"
    (audio,) = output.files
    assert audio.mime_type == "audio/wav" and audio.filename == "speech.wav"
    assert audio.content is not None and audio.content.startswith(b"RIFF")
    with pytest.raises(ToolError, match="text is required"):
        await box.invoke(ref("audio", "tts"), {"text": " "}, CALL)
    missing = toolbox(gateway=ModelGateway(Settings(text_to_speech_model="none")))
    with pytest.raises(ToolError, match="No text-to-speech model"):
        await missing.invoke(ref("audio", "tts"), {"text": "hi"}, CALL)


async def test_dalle_offline_makes_files() -> None:
    box = toolbox(gateway=ModelGateway(OFFLINE))
    output = await box.invoke(
        ref("langgenius/openai/openai", "dalle3"), {"prompt": "a kiln", "n": 2}, CALL
    )
    assert [f.mime_type for f in output.files] == ["image/png", "image/png"]
    assert output.files[0].content == grey_png()
    old = await box.invoke(ref("dalle", "dalle2"), {"prompt": "a kiln"}, CALL)
    assert len(old.files) == 1
    assert (await box.invoke(ref("dalle", "dalle3"), {"prompt": ""}, CALL)).text == (
        "Please input prompt"
    )
    bad = await box.invoke(ref("dalle", "dalle3"), {"prompt": "x", "quality": "ultra"}, CALL)
    assert bad.text == "Invalid quality"


class _Images(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Images.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.headers.get("Authorization") != "Bearer sk-test":
            payload, status = {"error": {"message": "Incorrect API key"}}, 401
        else:
            payload, status = (
                {
                    "data": [
                        {
                            "b64_json": base64.b64encode(b"png-bytes").decode(),
                            "revised_prompt": "r",
                        },
                        {"url": "https://img.example.test/1.png"},
                    ]
                },
                200,
            )
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@contextlib.contextmanager
def images_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


async def test_the_images_api_request_and_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    with images_api() as base:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", base)
        box = toolbox(gateway=ModelGateway(Settings(image_generation_provider="openai")))
        output = await box.invoke(
            ref("openai", "dalle3"),
            {"prompt": "a kiln", "size": "horizontal", "quality": "hd", "style": "natural"},
            CALL,
        )
        sent = _Images.seen[-1]
        assert sent == {
            "path": "/v1/images/generations",
            "auth": "Bearer sk-test",
            "model": "dall-e-3",
            "prompt": "a kiln",
            "response_format": "b64_json",
            "size": "1792x1024",
            "n": 1,
            "quality": "hd",
            "style": "natural",
        }
        stored, linked = output.files
        assert stored.content == b"png-bytes" and stored.mime_type == "image/png"
        assert linked.url == "https://img.example.test/1.png" and linked.content is None
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        with pytest.raises(UpstreamAuthFailed, match="401"):
            await openai_images(resolve("openai"), "dall-e-2", "x", {}, 10)
