"""A workflow app with a file input → document-extractor → end, over the Service API: the
file uploaded first (`/v1/files/upload`) or named by a remote URL served on loopback
(through the SSRF guard), a list of files, and a failing type reported as the run's error."""

from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from tests.support import documents
from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.files import loopback_http, upload, use_tmp_storage

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(autouse=True)
def storage_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_tmp_storage(monkeypatch, tmp_path)


def _file_input(variable: str, kind: str = "file") -> dict[str, Any]:
    return {
        "variable": variable,
        "label": variable,
        "type": kind,
        "required": True,
        "allowed_file_types": ["document"],
        "allowed_file_upload_methods": ["local_file", "remote_url"],
        **({"max_length": 5} if kind == "file-list" else {}),
    }


def extractor_app(kind: str = "file") -> str:
    start = {"id": "start", "type": "start", "variables": [_file_input("doc", kind)]}
    extractor = {
        "id": "extract",
        "type": "document-extractor",
        "variable_selector": ["start", "doc"],
        "is_array_file": kind == "file-list",
    }
    end = {
        "id": "end",
        "type": "end",
        "outputs": [{"variable": "text", "value_selector": ["extract", "text"]}],
    }
    return graph_dsl(
        "workflow", [start, extractor, end], [("start", "extract"), ("extract", "end")]
    )


def _local(file_id: str) -> dict[str, str]:
    return {"type": "document", "transfer_method": "local_file", "upload_file_id": file_id}


async def _run(client: httpx.AsyncClient, key: str, doc: Any) -> dict[str, Any]:
    body = {"inputs": {"doc": doc}, "user": "docs", "response_mode": "blocking"}
    resp = await client.post("/v1/workflows/run", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()["data"]
    return data


async def _upload(client: httpx.AsyncClient, key: str, content: bytes, name: str, mime: str) -> str:
    resp = await upload(client, key, content, name, mime, user="docs")
    assert resp.status_code == 201, resp.text
    file_id: str = resp.json()["id"]
    return file_id


async def test_an_uploaded_docx_becomes_text(client: httpx.AsyncClient) -> None:
    _, key = await make_app(extractor_app())
    file_id = await _upload(client, key, documents.docx(), "report.docx", DOCX)
    run = await _run(client, key, _local(file_id))
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["text"] == (
        "Quarterly report\nSales grew in every region.\n"
        "| Region | Sales |\n| --- | --- |\n| North | 10 |\n| South | line one<br>line two |\n"
        "\nThe end."
    )
    stored = await client.get(f"/v1/workflows/run/{run['id']}", headers=auth(key))
    assert stored.json()["outputs"] == run["outputs"]


async def test_a_list_of_uploads_becomes_a_list_of_texts(client: httpx.AsyncClient) -> None:
    _, key = await make_app(extractor_app("file-list"))
    pdf = await _upload(client, key, documents.pdf(["Hello PDF"]), "a.pdf", "application/pdf")
    csv = await _upload(client, key, b"k,v\na,1\n", "b.csv", "text/csv")
    run = await _run(client, key, [_local(pdf), _local(csv)])
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["text"] == ["Hello PDF", "| k | v |\n| - | - |\n| a | 1 |\n"]


async def test_a_remote_url_is_fetched_through_the_guard(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = documents.xlsx()

    def serve(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    _, key = await make_app(extractor_app())
    with loopback_http(serve) as base:
        remote = {"type": "document", "transfer_method": "remote_url", "url": f"{base}/b.xlsx"}
        monkeypatch.setattr(get_settings(), "ssrf_allowed_hosts", "")
        refused = await _run(client, key, remote)
        assert refused["status"] == "failed"
        assert refused["error"].startswith("Error downloading file: ")
        monkeypatch.setattr(get_settings(), "ssrf_allowed_hosts", "127.0.0.1/32")
        run = await _run(client, key, remote)
    assert run["status"] == "succeeded", run["error"]
    assert run["outputs"]["text"].startswith("| Item | Price | Stock |\n")


async def test_an_unsupported_type_fails_the_run(client: httpx.AsyncClient) -> None:
    _, key = await make_app(extractor_app())
    file_id = await _upload(client, key, b"PK\x03\x04", "archive.zip", "application/zip")
    run = await _run(client, key, _local(file_id))
    assert run["status"] == "failed"
    assert run["error"] == "Unsupported Extension Type: .zip"


async def test_the_size_limit_is_a_setting(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "document_extractor_max_file_size", 10)
    _, key = await make_app(extractor_app())
    file_id = await _upload(client, key, b"more than ten bytes", "a.txt", "text/plain")
    run = await _run(client, key, _local(file_id))
    assert run["status"] == "failed"
    assert run["error"] == (
        "a.txt is 19 bytes; document extraction reads files of at most 10 bytes "
        "(KILN_DOCUMENT_EXTRACTOR_MAX_FILE_SIZE)"
    )
