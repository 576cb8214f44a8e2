"""Classic apps' dataset retrieval in-process against a local retrieval service: the
datasets `dataset_configs` names, the query (a completion app's `dataset_query_variable`),
the context block in simple and advanced prompts, retriever resources (only with the
`retriever_resource` feature), the agent-chat exception, failures as `invalid_param`
errors, and Dify's merge of advanced-chat resources."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.app_config import load_app_config
from app.engine.classic_runner import ClassicJob, run_classic
from app.engine.events import MessageStreamContext
from app.engine.knowledge.classic import RetrievalFailure, classic_retrieval
from app.engine.knowledge.settings import RerankModel, classic_dataset_ids, from_classic
from app.engine.knowledge.sources import merge_resources
from app.engine.prompt import CONTEXT_PROMPT, build_prompt
from app.engine.run_context import RunContext
from app.integrations.config import KnowledgeBase
from app.integrations.knowledge.client import ExternalKnowledge
from app.net.ssrf import AllowList
from app.services.model_errors import dify_error
from tests.engine.fakes import FakeGateway
from tests.support.knowledge_service import (
    API_KEY,
    Document,
    KnowledgeService,
    knowledge_service,
)

BASES = {
    "policies": [
        Document("Vacation is 25 days.", 0.9, "vacation.md", {"team": "hr"}),
        Document("Expenses need {{receipts}}.", 0.4, "expenses.md", {"team": "finance"}),
    ],
    "faq": [Document("Office opens at 8.", 0.7, "hours.md", {})],
}
DATASETS = {"datasets": [
    {"dataset": {"enabled": True, "id": "ds-policies"}},
    {"dataset": {"enabled": False, "id": "ds-off"}},
    {"dataset": {"enabled": True, "id": "ds-faq"}},
]}  # fmt: skip


@pytest.fixture(scope="module")
def module_service() -> Iterator[KnowledgeService]:
    with knowledge_service(BASES) as running:
        yield running


@pytest.fixture
def service(module_service: KnowledgeService) -> KnowledgeService:
    module_service.requests.clear()
    return module_service


def knowledge(service: KnowledgeService) -> ExternalKnowledge:
    base = {"endpoint": service.url, "api_key": API_KEY}
    return ExternalKnowledge(
        {
            "ds-policies": KnowledgeBase(**base, knowledge_id="policies", name="Policies"),
            "ds-faq": KnowledgeBase(**base, knowledge_id="faq", name="FAQ"),
        },
        AllowList.parse("127.0.0.1/32"),
    )


def model_config(**extra: Any) -> dict[str, Any]:
    return {
        "model": {"provider": "openai", "name": "gpt-4o-mini", "mode": "chat"},
        "pre_prompt": "You are terse about {{topic}}.",
        "prompt_type": "simple",
        "user_input_form": [],
        "dataset_configs": {"retrieval_model": "multiple", "top_k": 2, "datasets": DATASETS},
        "retriever_resource": {"enabled": True},
        **extra,
    }


def test_dataset_ids_and_settings() -> None:
    assert classic_dataset_ids(model_config()) == ("ds-policies", "ds-faq")
    legacy = {"agent_mode": {"enabled": True, "tools": [
        {"dataset": {"enabled": True, "id": "ds-legacy"}},
        {"provider_type": "builtin", "provider_id": "time", "tool_name": "current_time"},
    ]}}  # fmt: skip
    assert classic_dataset_ids(legacy) == ("ds-legacy",)
    assert (
        classic_dataset_ids({**legacy, "agent_mode": {**legacy["agent_mode"], "enabled": False}})
        == ()
    )
    config = from_classic(model_config())
    assert config is not None and (config.mode, config.top_k, config.score_threshold) == (
        "multiple",
        2,
        None,
    )
    threshold = model_config(dataset_configs={
        "retrieval_model": "multiple", "score_threshold_enabled": True, "score_threshold": 0.5,
        "datasets": DATASETS,
    })  # fmt: skip
    config = from_classic(threshold)
    assert config is not None and (config.top_k, config.score_threshold) == (4, 0.5)
    single = from_classic(
        model_config(dataset_configs={"retrieval_model": "single", "datasets": DATASETS})
    )
    assert single is not None and single.router is not None
    assert (single.mode, single.router.name) == ("single", "gpt-4o-mini")
    assert from_classic({"dataset_configs": {"retrieval_model": "multiple"}}) is None
    reranked = from_classic(model_config(dataset_configs={
        "retrieval_model": "multiple", "datasets": DATASETS, "reranking_enabled": True,
        "reranking_model": {"reranking_provider_name": "jina", "reranking_model_name": "m"},
    }))  # fmt: skip
    assert reranked is not None and reranked.reranking_enable
    assert reranked.reranking_model == RerankModel("jina", "m")


def test_simple_prompts_put_the_context_block_first() -> None:
    config = load_app_config(AppMode.CHAT, model_config())
    inputs = {"topic": "HR"}
    block = CONTEXT_PROMPT.replace("{{#context#}}", "A {x}")
    prompt = build_prompt(config, inputs, "q?", [], None, context="A {{x}}")
    assert prompt.messages[0] == {
        "role": "system",
        "content": block + "You are terse about HR.\n",
    }
    empty = build_prompt(config, inputs, "q?", [], None, context="")
    assert empty.messages[0]["content"].startswith(
        "Use the following context as your learned knowledge, inside <context></context> XML "
        "tags.\n\n<context>\n\n</context>"
    )
    none = build_prompt(config, inputs, "q?", [], None)
    assert none.messages[0]["content"] == "You are terse about HR.\n"
    completion = load_app_config(
        AppMode.COMPLETION,
        model_config(model={"provider": "openai", "name": "x", "mode": "completion"}),
    )
    text = build_prompt(completion, inputs, "", [], None, context="ctx").messages[0]["content"]
    assert text == CONTEXT_PROMPT.replace("{{#context#}}", "ctx") + "You are terse about HR.\n"


def test_advanced_prompts_fill_the_context_placeholder() -> None:
    config = load_app_config(
        AppMode.CHAT,
        model_config(
            prompt_type="advanced",
            chat_prompt_config={"prompt": [{"role": "system", "text": "Use {{#context#}} only."}]},
        ),
    )
    prompt = build_prompt(config, {}, "q?", [], None, context="the facts")
    assert prompt.messages[0] == {"role": "system", "content": "Use the facts only."}


async def test_retrieval_context_and_resources(service: KnowledgeService) -> None:
    config = load_app_config(AppMode.CHAT, model_config())
    found = await classic_retrieval(config, {}, "vacation?", FakeGateway(), knowledge(service))
    assert found is not None
    assert found.context == "Vacation is 25 days.\nOffice opens at 8."
    assert found.resources == [
        {
            "position": 1,
            "dataset_id": "ds-policies",
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
            "dataset_id": "ds-faq",
            "dataset_name": "FAQ",
            "document_id": "hours.md",
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
    hidden = load_app_config(AppMode.CHAT, model_config(retriever_resource={"enabled": False}))
    found = await classic_retrieval(hidden, {}, "vacation?", FakeGateway(), knowledge(service))
    assert found is not None and found.resources == [] and found.context


async def test_completion_apps_ask_with_the_query_variable(service: KnowledgeService) -> None:
    filtering = {"logical_operator": "and", "conditions": [
        {"name": "team", "comparison_operator": "is", "value": "{{team}}\n"},
    ]}  # fmt: skip
    config = load_app_config(
        AppMode.COMPLETION,
        model_config(
            dataset_query_variable="question",
            dataset_configs={
                "retrieval_model": "multiple",
                "datasets": DATASETS,
                "metadata_filtering_mode": "manual",
                "metadata_filtering_conditions": filtering,
            },
        ),
    )
    inputs = {"question": "expenses", "team": "finance"}
    found = await classic_retrieval(config, inputs, "", FakeGateway(), knowledge(service))
    assert found is not None and found.context == "Expenses need {{receipts}}."
    assert {r["body"]["query"] for r in service.requests} == {"expenses"}
    assert service.requests[0]["body"]["metadata_condition"]["conditions"] == [
        {"name": "team", "comparison_operator": "is", "value": "finance"}
    ]


async def test_run_classic_puts_the_context_in_the_prompt(service: KnowledgeService) -> None:
    gateway = FakeGateway()
    job = ClassicJob(load_app_config(AppMode.CHAT, model_config()), {"topic": "HR"}, "hi", [])
    ctx = MessageStreamContext(task_id="t", message_id="m", conversation_id="c", created_at=1)
    result = await run_classic(
        job, RunContext(gateway, lambda e: None), ctx, None, None, knowledge(service)
    )
    assert result.error is None
    system = gateway.calls[0].messages[0]["content"]
    assert "<context>\nVacation is 25 days.\nOffice opens at 8.\n</context>" in system
    assert system.endswith("You are terse about HR.\n")
    assert [r["dataset_name"] for r in result.metadata["retriever_resources"]] == [
        "Policies",
        "FAQ",
    ]


async def test_agent_chat_apps_do_not_retrieve_up_front(service: KnowledgeService) -> None:
    gateway = FakeGateway()
    config = load_app_config(AppMode.AGENT_CHAT, model_config())
    job = ClassicJob(config, {}, "hi", [], agent=True)
    ctx = MessageStreamContext(task_id="t", message_id="m", conversation_id="c", created_at=1)
    result = await run_classic(
        job, RunContext(gateway, lambda e: None), ctx, None, None, knowledge(service)
    )
    assert result.error is None and service.requests == []
    assert "<context>" not in str(gateway.calls[0].messages)


async def test_unmapped_dataset_fails_the_message(service: KnowledgeService) -> None:
    gateway = FakeGateway()
    job = ClassicJob(load_app_config(AppMode.CHAT, model_config()), {}, "hi", [])
    ctx = MessageStreamContext(task_id="t", message_id="m", conversation_id="c", created_at=1)
    result = await run_classic(job, RunContext(gateway, lambda e: None), ctx)
    assert isinstance(result.error, RetrievalFailure)
    assert gateway.calls == []
    error = dify_error(result.error)
    assert (error.code, error.status) == ("invalid_param", 400)
    assert error.message == (
        "Knowledge base ds-policies is not mapped: add it to the integrations file's "
        "`knowledge` section"
    )


def test_merge_keeps_one_resource_per_document_across_llm_nodes() -> None:
    first = [
        {"dataset_id": "a", "document_id": "1", "position": 1},
        {"dataset_id": "a", "document_id": "1", "position": 2},  # same node: both kept
    ]
    second = [
        {"dataset_id": "a", "document_id": "1", "position": 1},  # seen: dropped
        {"dataset_id": "b", "document_id": "2", "position": 2},
        {"dataset_id": None, "document_id": None, "position": 3},
    ]
    merged = merge_resources([first, second])
    assert [(r["dataset_id"], r["position"]) for r in merged] == [
        ("a", 1),
        ("a", 2),
        ("b", 3),
        (None, 4),
    ]


async def test_a_stop_during_retrieval_ends_the_run_at_once(service: KnowledgeService) -> None:
    slow = ExternalKnowledge(
        {"ds-policies": KnowledgeBase(endpoint=service.url, api_key=API_KEY, knowledge_id="slow")},
        AllowList.parse("127.0.0.1/32"),
    )
    config = model_config(dataset_configs={"datasets": {"datasets": DATASETS["datasets"][:1]}})
    job = ClassicJob(load_app_config(AppMode.CHAT, config), {}, "hi", [])
    ctx = MessageStreamContext(task_id="t", message_id="m", conversation_id="c", created_at=1)
    gateway = FakeGateway()
    run = RunContext(gateway, lambda e: None)
    asyncio.get_running_loop().call_later(0.2, run.stop.set)
    started = time.monotonic()
    result = await run_classic(job, run, ctx, None, None, slow)
    assert result.stopped and result.answer == "" and result.error is None
    assert time.monotonic() - started < 1.5  # the service takes 2 s
    assert gateway.calls == []
