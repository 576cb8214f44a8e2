"""Files of earlier turns go back to the model with the conversation memory, as Dify's
memory sends them: images after the earlier query's text for chat-type models, an
`[image]` marker in the history text for completion-type models."""

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import PNG, files_app, upload, use_tmp_storage

DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _chat(
    client: httpx.AsyncClient,
    key: str,
    query: str,
    files: list[Any] | None = None,
    conversation_id: str = "",
) -> dict[str, Any]:
    body = {
        "inputs": {},
        "query": query,
        "user": "alice",
        "files": files or [],
        "conversation_id": conversation_id,
        "response_mode": "blocking",
        "auto_generate_name": False,
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _image(file_id: str) -> dict[str, str]:
    return {"type": "image", "transfer_method": "local_file", "upload_file_id": file_id}


def _last_generation(upstream: FakeUpstream) -> dict[str, Any]:
    calls = [r for r in upstream.requests if "First message: " not in json.dumps(r)]
    return calls[-1]


async def test_an_earlier_image_follows_its_query_in_memory(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    first_id = (await upload(client, key)).json()["id"]
    second_id = (await upload(client, key)).json()["id"]
    first = await _chat(client, key, "What is this?", [_image(first_id), _image(second_id)])
    await _chat(client, key, "And now?", conversation_id=first["conversation_id"])
    image = {"type": "image_url", "image_url": {"url": DATA_URL, "detail": "low"}}
    messages = _last_generation(upstream)["messages"]
    assert messages[1:] == [
        {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image, image]},
        {"role": "assistant", "content": first["answer"]},
        {"role": "user", "content": "And now?"},
    ]


async def test_a_lost_file_is_left_out_of_memory(
    client: httpx.AsyncClient, upstream: FakeUpstream, storage_root: Path
) -> None:
    _, key = await make_app(files_app())
    file_id = (await upload(client, key)).json()["id"]
    first = await _chat(client, key, "What is this?", [_image(file_id)])
    for stored in storage_root.rglob("*.png"):
        stored.unlink()
    await _chat(client, key, "And now?", conversation_id=first["conversation_id"])
    messages = _last_generation(upstream)["messages"]
    assert messages[1] == {"role": "user", "content": "What is this?"}


async def test_completion_models_see_an_image_marker(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    file_upload = {
        "enabled": True,
        "allowed_file_types": ["image"],
        "allowed_file_upload_methods": ["local_file"],
        "number_limits": 3,
    }
    dsl = chat_dsl(
        provider="openai",
        model="gpt-3.5-turbo-instruct",
        model_mode="completion",
        file_upload=file_upload,
    )
    _, key = await make_app(dsl)
    file_id = (await upload(client, key)).json()["id"]
    first = await _chat(client, key, "What is this?", [_image(file_id)])
    await _chat(client, key, "And now?", conversation_id=first["conversation_id"])
    prompt = str(_last_generation(upstream).get("prompt", ""))
    assert f"Human: What is this?\n[image]\nAssistant: {first['answer']}" in prompt
