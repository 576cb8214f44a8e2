"""Knowledge retrieval served over the Service API, against a local retrieval service the
server's knowledge mapping points at: a workflow whose knowledge-retrieval node feeds an
LLM, an advanced-chat app whose `message_end` and `/messages` carry the LLM's retriever
resources, a classic chat app with `dataset_configs` (the context reaches the model: the
fake upstream records the prompt), and an unmapped dataset (a clear error when it runs, a
`will not run` line when it is imported)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import get_settings
from app.integrations.config import KnowledgeBase
from app.integrations.knowledge.client import ExternalKnowledge
from app.net.ssrf import AllowList
from app.services.apps.importer import import_app
from tests.support.dsl import auth, chat_dsl, graph_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.knowledge_service import (
    API_KEY,
    Document,
    KnowledgeService,
    knowledge_service,
)
from tests.support.sse import read_stream

POLICIES = "a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
FAQ = "kJ8vQ2+mN5pR7tW9yB1dF3hK6nP8sU0wZ2cE4gI6=lO9qT1vX3zA5cE7gI9kM1o"  # encrypted-looking
UNMAPPED = "0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f"
BASES = {
    "policies": [
        Document("Vacation is 25 days.", 0.9, "vacation.md", {"team": "hr"}),
        Document("Badge at the door.", 0.1, "security.md", {"team": "it"}),
    ],
    "faq": [Document("Office opens at 8.", 0.7, "hours.md", {"document_id": "doc-7"})],
}


@pytest.fixture(scope="module")
def module_service() -> Iterator[KnowledgeService]:
    with knowledge_service(BASES) as running:
        yield running


@pytest.fixture
def service(
    module_service: KnowledgeService, server: str, monkeypatch: pytest.MonkeyPatch
) -> KnowledgeService:
    """The running server's knowledge mapping points at the local service (loopback let
    through the SSRF guard, as `KILN_SSRF_ALLOWED_HOSTS=127.0.0.1/32` would)."""
    from tests.conftest import _SERVER_APPS

    module_service.requests.clear()
    base = {"endpoint": module_service.url, "api_key": API_KEY}
    mapping = {
        POLICIES: KnowledgeBase(**base, knowledge_id="policies", name="Policies"),
        FAQ: KnowledgeBase(**base, knowledge_id="faq", name="FAQ"),
    }
    runtime = _SERVER_APPS[-1].state.runtime
    monkeypatch.setattr(
        runtime, "knowledge", ExternalKnowledge(mapping, AllowList.parse("127.0.0.1/32"))
    )
    return module_service


def retrieval_node(dataset_ids: list[str], query: list[str]) -> dict[str, Any]:
    return {
        "id": "kr",
        "type": "knowledge-retrieval",
        "query_variable_selector": query,
        "dataset_ids": dataset_ids,
        "retrieval_mode": "multiple",
        "multiple_retrieval_config": {"top_k": 2, "score_threshold": None},
    }


def llm_node() -> dict[str, Any]:
    return {
        "id": "llm",
        "type": "llm",
        "model": {"provider": "kiln", "name": "echo", "mode": "chat", "completion_params": {}},
        "prompt_template": [
            {"role": "system", "text": "Use this: {{#context#}}"},
            {"role": "user", "text": "Question"},
        ],
        "context": {"enabled": True, "variable_selector": ["kr", "result"]},
    }


def workflow_app(dataset_ids: list[str]) -> str:
    nodes = [
        {"id": "start", "type": "start", "variables": [
            {"variable": "q", "label": "Q", "type": "text-input", "required": True}]},
        retrieval_node(dataset_ids, ["start", "q"]),
        llm_node(),
        {"id": "end", "type": "end", "outputs": [
            {"variable": "hits", "value_selector": ["kr", "result"]},
            {"variable": "text", "value_selector": ["llm", "text"]},
        ]},
    ]  # fmt: skip
    return graph_dsl("workflow", nodes, [("start", "kr"), ("kr", "llm"), ("llm", "end")])


def chatflow_app(show_sources: bool = True) -> str:
    nodes = [
        {"id": "start", "type": "start", "variables": []},
        retrieval_node([POLICIES, FAQ], ["sys", "query"]),
        llm_node(),
        {"id": "answer", "type": "answer", "answer": "{{#llm.text#}}"},
    ]
    edges = [("start", "kr"), ("kr", "llm"), ("llm", "answer")]
    return graph_dsl("advanced-chat", nodes, edges, retriever_resource={"enabled": show_sources})


async def run_workflow(client: httpx.AsyncClient, key: str, q: str) -> list[dict[str, Any]]:
    body = {"inputs": {"q": q}, "user": "u1", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/workflows/run", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    return events


async def test_workflow_retrieval_feeds_the_llm(
    client: httpx.AsyncClient, service: KnowledgeService
) -> None:
    _, key = await make_app(workflow_app([POLICIES, FAQ]))
    events = await run_workflow(client, key, "vacation?")
    finished = events[-1]
    assert finished["event"] == "workflow_finished", finished
    run = finished["data"]
    assert run["status"] == "succeeded", run
    hits = run["outputs"]["hits"]
    assert [
        (h["metadata"]["position"], h["metadata"]["dataset_name"], h["content"]) for h in hits
    ] == [
        (1, "Policies", "Vacation is 25 days."),
        (2, "FAQ", "Office opens at 8."),
    ]
    assert hits[1]["metadata"]["document_id"] == "doc-7"
    assert hits[1]["metadata"]["dataset_id"] == FAQ
    llm = next(e for e in events if e["event"] == "node_finished" and e["data"]["node_id"] == "llm")
    prompts = llm["data"]["process_data"]["prompts"]
    assert prompts[0]["text"] == "Use this: Vacation is 25 days.\nOffice opens at 8."
    assert {r["body"]["query"] for r in service.requests} == {"vacation?"}
    assert {r["headers"]["Authorization"] for r in service.requests} == {f"Bearer {API_KEY}"}


async def test_workflow_with_an_unmapped_dataset_fails_naming_it(
    client: httpx.AsyncClient, service: KnowledgeService
) -> None:
    _, key = await make_app(workflow_app([POLICIES, UNMAPPED]))
    events = await run_workflow(client, key, "vacation?")
    run = events[-1]["data"]
    assert run["status"] == "failed"
    assert run["error"] == (
        f"Knowledge base {UNMAPPED} is not mapped: add it to the integrations file's "
        "`knowledge` section"
    )
    assert service.requests == []


async def test_advanced_chat_message_end_lists_the_llms_resources(
    client: httpx.AsyncClient, service: KnowledgeService
) -> None:
    _, key = await make_app(chatflow_app())
    body = {"inputs": {}, "query": "vacation?", "user": "u2", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    end = events[-1]
    assert end["event"] == "message_end", end
    resources = end["metadata"]["retriever_resources"]
    assert [
        (r["position"], r["dataset_name"], r["document_name"], r["score"]) for r in resources
    ] == [
        (1, "Policies", "vacation.md", 0.9),
        (2, "FAQ", "hours.md", 0.7),
    ]
    assert resources[1]["document_id"] == "doc-7"
    assert resources[0]["retriever_from"] == "workflow"
    assert resources[0]["content"] == "Vacation is 25 days."
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": end["conversation_id"], "user": "u2"},
        headers=auth(key),
    )
    assert listed.status_code == 200
    assert listed.json()["data"][0]["retriever_resources"] == resources


async def test_advanced_chat_without_the_feature_shows_none(
    client: httpx.AsyncClient, service: KnowledgeService
) -> None:
    _, key = await make_app(chatflow_app(show_sources=False))
    body = {"inputs": {}, "query": "vacation?", "user": "u3", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"]["retriever_resources"] == []
    assert len(service.requests) == 2  # retrieval still ran


def classic_app(*dataset_ids: str, show_sources: bool = True) -> str:
    return chat_dsl(
        provider="openai",
        model="gpt-4o-mini",
        pre_prompt="You are the HR bot.",
        dataset_configs={
            "retrieval_model": "multiple",
            "top_k": 3,
            "score_threshold_enabled": True,
            "score_threshold": 0.5,
            "datasets": {
                "datasets": [{"dataset": {"enabled": True, "id": i}} for i in dataset_ids]
            },
        },
        retriever_resource={"enabled": show_sources},
    )


async def test_classic_chat_gets_the_context_and_shows_its_sources(
    client: httpx.AsyncClient, upstream: FakeUpstream, service: KnowledgeService
) -> None:
    _, key = await make_app(classic_app(POLICIES, FAQ))
    body = {"inputs": {}, "query": "vacation?", "user": "u4", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        assert resp.status_code == 200
        _, events = await read_stream(resp)
    system = upstream.requests[-1]["messages"][0]
    assert system["role"] == "system"
    assert "<context>\nVacation is 25 days.\nOffice opens at 8.\n</context>" in system["content"]
    assert system["content"].endswith("You are the HR bot.\n")
    assert upstream.requests[-1]["messages"][-1] == {"role": "user", "content": "vacation?"}
    settings = {r["body"]["knowledge_id"]: r["body"]["retrieval_setting"] for r in service.requests}
    assert settings == {
        "policies": {"top_k": 3, "score_threshold": 0.5},
        "faq": {"top_k": 3, "score_threshold": 0.5},
    }
    end = events[-1]
    assert end["event"] == "message_end", end
    resources = end["metadata"]["retriever_resources"]
    assert resources == [
        {
            "position": 1,
            "dataset_id": POLICIES,
            "dataset_name": "Policies",
            "document_id": "vacation.md",
            "document_name": "vacation.md",
            "data_source_type": "external",
            "segment_id": None,
            "retriever_from": "api",
            "score": 0.9,
            "hit_count": None,
            "word_count": None,
            "segment_position": None,
            "index_node_hash": None,
            "content": "Vacation is 25 days.",
            "page": None,
            "doc_metadata": None,
            "title": None,
            "files": None,
            "summary": None,
        },
        {
            "position": 2,
            "dataset_id": FAQ,
            "dataset_name": "FAQ",
            "document_id": "doc-7",
            "document_name": "hours.md",
            "data_source_type": "external",
            "segment_id": None,
            "retriever_from": "api",
            "score": 0.7,
            "hit_count": None,
            "word_count": None,
            "segment_position": None,
            "index_node_hash": None,
            "content": "Office opens at 8.",
            "page": None,
            "doc_metadata": None,
            "title": None,
            "files": None,
            "summary": None,
        },
    ]
    listed = await client.get(
        "/v1/messages",
        params={"conversation_id": end["conversation_id"], "user": "u4"},
        headers=auth(key),
    )
    assert listed.json()["data"][0]["retriever_resources"] == resources
    blocking = await client.post(
        "/v1/chat-messages",
        json={**body, "response_mode": "blocking", "conversation_id": end["conversation_id"]},
        headers=auth(key),
    )
    assert blocking.status_code == 200, blocking.text
    assert blocking.json()["metadata"]["retriever_resources"] == resources


async def test_classic_chat_without_the_feature_keeps_the_context_only(
    client: httpx.AsyncClient, upstream: FakeUpstream, service: KnowledgeService
) -> None:
    _, key = await make_app(classic_app(POLICIES, show_sources=False))
    body = {"inputs": {}, "query": "vacation?", "user": "u5", "response_mode": "blocking"}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.json()["metadata"]["retriever_resources"] == []
    assert "Vacation is 25 days." in upstream.requests[-1]["messages"][0]["content"]


async def test_classic_chat_with_an_unmapped_dataset_is_a_clear_error(
    client: httpx.AsyncClient, upstream: FakeUpstream, service: KnowledgeService
) -> None:
    _, key = await make_app(classic_app(POLICIES, UNMAPPED))
    message = (
        f"Knowledge base {UNMAPPED} is not mapped: add it to the integrations file's "
        "`knowledge` section"
    )
    body = {"inputs": {}, "query": "vacation?", "user": "u6", "response_mode": "streaming"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=auth(key)) as resp:
        _, events = await read_stream(resp)
    assert events[-1] == {**events[-1], "event": "error", "code": "invalid_param", "status": 400}
    assert events[-1]["message"] == message
    blocking = await client.post(
        "/v1/chat-messages", json={**body, "response_mode": "blocking"}, headers=auth(key)
    )
    assert blocking.status_code == 400
    assert blocking.json() == {"code": "invalid_param", "message": message, "status": 400}
    assert upstream.requests == []  # the model is never asked


async def test_import_lists_unmapped_knowledge_bases(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = tmp_path / "integrations.yml"
    mapping.write_text(
        f"knowledge:\n  '{POLICIES}': {{endpoint: 'https://kb.example', knowledge_id: policies}}\n"
    )
    monkeypatch.setattr(get_settings(), "integrations_file", str(mapping))
    imported = await import_app(workflow_app([POLICIES, UNMAPPED]))
    hint = "is not mapped: add it to the integrations file's `knowledge` section"
    assert imported.problems == (
        f"fails when reached: node kr (kr): knowledge base {UNMAPPED} {hint}",
    )
    classic = await import_app(classic_app(POLICIES, UNMAPPED, FAQ))
    assert classic.problems == (
        f"dataset retrieval fails: knowledge base {UNMAPPED} {hint}",
        f"dataset retrieval fails: knowledge base {FAQ} {hint}",
    )
    mapping.write_text("knowledge: [1]\n")
    monkeypatch.setattr(get_settings(), "integrations_file", str(tmp_path / "missing.yml"))
    broken = await import_app(classic_app(POLICIES))
    assert len(broken.problems) == 1 and "cannot be read" in broken.problems[0]
    assert (await import_app(chat_dsl())).problems == ()  # no datasets: nothing to say
