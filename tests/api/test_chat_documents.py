"""Document files reach the model as Dify sends them: an OpenAI `file` part with base64 data
before the text, for providers that read that document type (app/gateway/documents.py), in
chat requests, in the memory of later turns, from remote URLs (through the SSRF guard), and
from an LLM node's vision files in graph apps; other providers and types get no part."""

import base64
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support import documents
from tests.support.dsl import auth, chat_dsl, file_start, graph_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.files import files_app, loopback_http, upload, use_tmp_storage

PDF = documents.pdf(["Quarterly numbers"])
PDF_PART = {
    "type": "file",
    "file": {
        "filename": "report.pdf",
        "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
    },
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


async def _chat(
    client: httpx.AsyncClient, key: str, files: list[Any], query: str = "Summarise", cid: str = ""
) -> dict[str, Any]:
    body = {
        "inputs": {},
        "query": query,
        "user": "alice",
        "files": files,
        "conversation_id": cid,
        "response_mode": "blocking",
        "auto_generate_name": False,
    }
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _doc(file_id: str) -> dict[str, str]:
    return {"type": "document", "transfer_method": "local_file", "upload_file_id": file_id}


def _messages(upstream: FakeUpstream) -> list[dict[str, Any]]:
    calls = [r for r in upstream.requests if "First message: " not in json.dumps(r)]
    messages: list[dict[str, Any]] = calls[-1]["messages"]
    return messages


async def _upload_pdf(client: httpx.AsyncClient, key: str) -> str:
    resp = await upload(client, key, PDF, "report.pdf", "application/pdf")
    assert resp.status_code == 201, resp.text
    file_id: str = resp.json()["id"]
    return file_id


async def test_a_pdf_goes_to_openai_before_the_text(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    answer = await _chat(client, key, [_doc(await _upload_pdf(client, key))])
    assert _messages(upstream)[-1]["content"] == [PDF_PART, {"type": "text", "text": "Summarise"}]
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": answer["conversation_id"], "user": "alice"},
        headers=auth(key),
    )
    [message_file] = listed.json()["data"][0]["message_files"]
    assert message_file["type"] == "document" and message_file["filename"] == "report.pdf"


async def test_types_and_providers_that_do_not_read_documents_get_none(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = await make_app(files_app())
    word = await upload(client, key, documents.docx(), "r.docx", DOCX)
    await _chat(client, key, [_doc(word.json()["id"])])
    assert _messages(upstream)[-1]["content"] == "Summarise"  # OpenAI reads only PDFs

    monkeypatch.setenv("OPENAI_API_COMPATIBLE_BASE_URL", upstream.base_url)
    uploads = {
        "enabled": True,
        "allowed_file_types": ["document"],
        "allowed_file_upload_methods": ["local_file"],
        "number_limits": 3,
    }
    compatible = chat_dsl(provider="openai_api_compatible", model="m", file_upload=uploads)
    _, other = await make_app(compatible)
    await _chat(client, other, [_doc(await _upload_pdf(client, other))])
    assert _messages(upstream)[-1]["content"] == "Summarise"  # no `document` feature there


async def test_an_earlier_document_comes_back_with_memory(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(files_app())
    first = await _chat(client, key, [_doc(await _upload_pdf(client, key))], "What is it?")
    await _chat(client, key, [], "And the total?", first["conversation_id"])
    assert _messages(upstream)[1:] == [
        {"role": "user", "content": [{"type": "text", "text": "What is it?"}, PDF_PART]},
        {"role": "assistant", "content": first["answer"]},
        {"role": "user", "content": "And the total?"},
    ]


async def test_a_remote_pdf_is_fetched_through_the_guard(
    client: httpx.AsyncClient, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    def serve(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/pdf")
        handler.send_header("Content-Length", str(len(PDF)))
        handler.end_headers()
        handler.wfile.write(PDF)

    monkeypatch.setattr(get_settings(), "ssrf_allowed_hosts", "127.0.0.1/32")
    _, key = await make_app(files_app())
    with loopback_http(serve) as base:
        remote = {"type": "document", "transfer_method": "remote_url", "url": f"{base}/report.pdf"}
        await _chat(client, key, [remote])
    assert _messages(upstream)[-1]["content"] == [PDF_PART, {"type": "text", "text": "Summarise"}]


async def test_an_llm_nodes_vision_document_reaches_the_model(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    start = file_start("local_file")
    llm = {
        "id": "read",
        "type": "llm",
        "model": {"provider": "langgenius/openai/openai", "name": "gpt-4o", "mode": "chat"},
        "prompt_template": [{"role": "user", "text": "Summarise the file."}],
        "context": {"enabled": False, "variable_selector": []},
        "vision": {"enabled": True, "configs": {"variable_selector": ["start", "doc"]}},
    }
    end = {
        "id": "end",
        "type": "end",
        "outputs": [{"variable": "answer", "value_selector": ["read", "text"]}],
    }
    _, key = await make_app(
        graph_dsl("workflow", [start, llm, end], [("start", "read"), ("read", "end")])
    )
    file_id = await _upload_pdf(client, key)
    body = {"inputs": {"doc": _doc(file_id)}, "user": "alice", "response_mode": "blocking"}
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["status"] == "succeeded", resp.json()["data"]["error"]
    assert _messages(upstream)[-1]["content"] == [
        PDF_PART,
        {"type": "text", "text": "Summarise the file."},
    ]
