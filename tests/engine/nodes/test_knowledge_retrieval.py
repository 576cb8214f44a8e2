"""The knowledge-retrieval node in-process against a local retrieval service: multiple mode
(every dataset asked, merged by score, threshold, top-k overall, the mapping's own
setting), single mode (one dataset as is, several routed by the model's tool call),
metadata filtering, Dify's `result` records, and the clear errors (unmapped dataset,
failing service, a query that is not a string); in a graph, an LLM node taking the result
as context and reporting its retriever resources for advanced-chat."""

from collections.abc import Iterator
from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.events import Event, MessageStreamContext
from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.nodes.knowledge_retrieval.node import KnowledgeRetrievalNode
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import compile_workflow, run_workflow
from app.engine.workflow.env import RunScope, WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.integrations.config import KnowledgeBase
from app.integrations.knowledge.client import ExternalKnowledge
from app.net.ssrf import AllowList
from tests.engine.fakes import FakeGateway, Scripted
from tests.engine.nodes.support import graph, workflow_run
from tests.support.knowledge_service import (
    API_KEY,
    Document,
    KnowledgeService,
    knowledge_service,
)

LOOPBACK = AllowList.parse("127.0.0.1/32")
HANDBOOK_ID = "6f1c2b9e-3a4d-4c5e-8f70-1a2b3c4d5e6f"
FAQ_ID = "Zk3x+9Qm/P2rT7vW1yB4nD6fH8jL0oS3uX5zA7cE9gI=kM2pR4tV6xY8bD0fG2hJ"  # encrypted-looking
BASES = {
    "handbook": [
        Document("Vacation is 25 days.", 0.9, "vacation.md", {"team": "hr", "year": 2024}),
        Document("Expenses need receipts.", 0.6, "expenses.md", {"team": "finance"}),
        Document("Badge at the door.", 0.2, "security.md", {"team": "it"}),
    ],
    "faq": [
        Document("Office opens at 8.", 0.8, "hours.md", {"document_id": "doc-hours"}),
        Document("Parking is free.", 0.3, "parking.md", {}),
    ],
}


@pytest.fixture(scope="module")
def module_service() -> Iterator[KnowledgeService]:
    with knowledge_service(BASES) as running:
        yield running


@pytest.fixture
def service(module_service: KnowledgeService) -> KnowledgeService:
    module_service.requests.clear()
    return module_service


def knowledge(service: KnowledgeService, **faq: Any) -> ExternalKnowledge:
    return ExternalKnowledge(
        {
            HANDBOOK_ID: KnowledgeBase(
                endpoint=service.url, api_key=API_KEY, knowledge_id="handbook", name="Handbook"
            ),
            FAQ_ID: KnowledgeBase.model_validate(
                {"endpoint": service.url, "api_key": API_KEY, "knowledge_id": "faq", **faq}
            ),
        },
        LOOPBACK,
    )


def node(**data: Any) -> KnowledgeRetrievalNode:
    values = {
        "type": "knowledge-retrieval",
        "title": "Knowledge",
        "query_variable_selector": ["start", "q"],
        "dataset_ids": [HANDBOOK_ID, FAQ_ID],
        "retrieval_mode": "multiple",
        "multiple_retrieval_config": {"top_k": 3, "score_threshold": None},
        **data,
    }
    return KnowledgeRetrievalNode(NodeSpec("kr", "knowledge-retrieval", "Knowledge", values))


async def run(
    kr: KnowledgeRetrievalNode,
    service: ExternalKnowledge | None,
    query: Any = "what about vacation?",
    gateway: FakeGateway | None = None,
    **start: Any,
) -> NodeResult:
    pool = VariablePool()
    pool.add_outputs("start", {"q": query, **start})
    ctx = NodeContext(
        spec=kr.spec,
        execution_id="execution",
        pool=pool,
        run=RunContext(gateway or FakeGateway(), lambda event: None),
        workflow=workflow_run(services=WorkflowServices(knowledge=service)),
        scope=RunScope(),
        stream=lambda text: None,
    )
    return await kr.run(ctx)


def summary(result: NodeResult) -> list[tuple[int, str, float, str]]:
    return [
        (
            item["metadata"]["position"],
            item["metadata"]["dataset_name"],
            item["metadata"]["score"],
            item["content"],
        )
        for item in result.outputs["result"]
    ]


async def test_multiple_mode_merges_by_score_and_keeps_top_k(service: KnowledgeService) -> None:
    result = await run(node(), knowledge(service))
    assert summary(result) == [
        (1, "Handbook", 0.9, "Vacation is 25 days."),
        (2, "faq", 0.8, "Office opens at 8."),
        (3, "Handbook", 0.6, "Expenses need receipts."),
    ]
    assert result.inputs == {"query": "what about vacation?"}
    asked = sorted(
        (r["body"]["knowledge_id"], *r["body"]["retrieval_setting"].values())
        for r in service.requests
    )
    assert asked == [("faq", 3, 0.0), ("handbook", 3, 0.0)]
    assert all("metadata_condition" not in r["body"] for r in service.requests)
    assert result.usage is not None and result.usage.total_tokens == 0


async def test_result_records_have_difys_shape(service: KnowledgeService) -> None:
    result = await run(node(), knowledge(service))
    first, second = result.outputs["result"][:2]
    assert first == {
        "metadata": {
            "_source": "knowledge",
            "dataset_id": HANDBOOK_ID,
            "dataset_name": "Handbook",
            "document_id": "vacation.md",
            "document_name": "vacation.md",
            "data_source_type": "external",
            "segment_id": None,
            "retriever_from": "workflow",
            "score": 0.9,
            "child_chunks": [],
            "segment_hit_count": 0,
            "segment_word_count": 0,
            "segment_position": 0,
            "segment_index_node_hash": None,
            "doc_metadata": {
                "team": "hr",
                "year": 2024,
                "score": 0.9,
                "title": "vacation.md",
                "dataset_id": HANDBOOK_ID,
                "dataset_name": "Handbook",
            },
            "position": 1,
        },
        "title": "vacation.md",
        "files": None,
        "content": "Vacation is 25 days.",
        "summary": None,
    }
    # A record's own document_id wins over its title; an unnamed mapping shows its id.
    assert second["metadata"]["document_id"] == "doc-hours"
    assert second["metadata"]["dataset_name"] == "faq"


async def test_threshold_and_the_mappings_own_setting(service: KnowledgeService) -> None:
    result = await run(
        node(multiple_retrieval_config={"top_k": 5, "score_threshold": 0.5}), knowledge(service)
    )
    assert [s for _, _, s, _ in summary(result)] == [0.9, 0.8, 0.6]
    assert {r["body"]["retrieval_setting"]["score_threshold"] for r in service.requests} == {0.5}
    service.requests.clear()
    result = await run(node(), knowledge(service, top_k=1, score_threshold=0.1))
    settings = {r["body"]["knowledge_id"]: r["body"]["retrieval_setting"] for r in service.requests}
    assert settings == {
        "handbook": {"top_k": 3, "score_threshold": 0.0},
        "faq": {"top_k": 1, "score_threshold": 0.1},
    }
    assert [s for _, _, s, _ in summary(result)] == [0.9, 0.8, 0.6]


def reranking(model: dict[str, str] | None = None, **config: Any) -> dict[str, Any]:
    return {
        "top_k": 2,
        "score_threshold": None,
        "reranking_enable": True,
        "reranking_mode": "reranking_model",
        "reranking_model": model or {"provider": "langgenius/kiln/kiln", "model": "rerank"},
        **config,
    }


async def test_a_rerank_model_reorders_the_merged_records(service: KnowledgeService) -> None:
    """Each dataset is asked for top-k, then the offline rerank model scores the merged
    records by shared words: the office record beats the services' best, and its score is
    the model's."""
    query = "When does the office open?"
    result = await run(node(multiple_retrieval_config=reranking()), knowledge(service), query)
    ranked = [(position, content) for position, _, _, content in summary(result)]
    assert ranked == [(1, "Office opens at 8."), (2, "Expenses need receipts.")]
    first = result.outputs["result"][0]["metadata"]
    assert 0.3 < first["score"] < 0.5 and first["doc_metadata"]["score"] == first["score"]
    # The threshold applies to the model's scores.
    config = reranking(score_threshold=0.2)
    result = await run(node(multiple_retrieval_config=config), knowledge(service), query)
    assert [content for *_, content in summary(result)] == ["Office opens at 8."]


async def test_reranking_leaves_the_services_order_where_dify_does(
    service: KnowledgeService,
) -> None:
    query = "When does the office open?"
    services_order = ["Vacation is 25 days.", "Office opens at 8."]
    for config in (
        reranking(reranking_mode="weighted_score"),  # needs the datasets' embedding model
        reranking(reranking_enable=False),
        {**reranking(), "reranking_model": None},
    ):
        result = await run(node(multiple_retrieval_config=config), knowledge(service), query)
        assert [content for *_, content in summary(result)] == services_order
    # One dataset: Dify does not rerank its records a second time.
    one = node(dataset_ids=[HANDBOOK_ID], multiple_retrieval_config=reranking())
    result = await run(one, knowledge(service), query)
    assert [content for *_, content in summary(result)][0] == "Vacation is 25 days."


async def test_a_rerank_model_that_cannot_be_called_fails_the_node(
    service: KnowledgeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COHERE_API_KEY", raising=False)
    config = reranking({"provider": "langgenius/cohere/cohere", "model": "rerank-v3.5"})
    with pytest.raises(NodeError) as failed:
        await run(node(multiple_retrieval_config=config), knowledge(service))
    assert failed.value.message == (
        "Rerank model langgenius/cohere/cohere/rerank-v3.5 failed: Provider cohere is not "
        "configured: set COHERE_API_KEY in Kiln's environment."
    )
    assert failed.value.error_type == "RerankFailed"


async def test_single_mode_with_one_dataset_asks_it_with_its_own_setting(
    service: KnowledgeService,
) -> None:
    gateway = FakeGateway()
    kr = node(
        retrieval_mode="single",
        dataset_ids=[FAQ_ID],
        single_retrieval_config={"model": {"provider": "openai", "name": "gpt-4o", "mode": "chat"}},
    )
    result = await run(kr, knowledge(service), gateway=gateway)
    assert [c for _, _, _, c in summary(result)] == ["Office opens at 8.", "Parking is free."]
    assert service.requests[0]["body"]["retrieval_setting"] == {"top_k": 4, "score_threshold": 0.0}
    assert gateway.calls == []  # one dataset: no model is asked


async def test_single_mode_routes_among_several_by_the_models_tool_call(
    service: KnowledgeService,
) -> None:
    gateway = FakeGateway(script=[Scripted("parking", tool_call={"name": "dataset_2"})])
    kr = node(
        retrieval_mode="single",
        single_retrieval_config={
            "model": {"provider": "openai", "name": "gpt-4o", "mode": "chat",
                      "completion_params": {"temperature": 0.9}}
        },
    )  # fmt: skip
    result = await run(kr, knowledge(service, description="Office\nFAQ"), "parking?", gateway)
    assert [c for _, _, _, c in summary(result)] == ["Office opens at 8.", "Parking is free."]
    assert [r["body"]["knowledge_id"] for r in service.requests] == ["faq"]
    call = gateway.calls[0]
    assert call.messages == [
        {"role": "system", "content": "You are a helpful AI assistant."},
        {"role": "user", "content": "parking?"},
    ]
    assert call.params == {"temperature": 0.2, "top_p": 0.3, "max_tokens": 1500}
    assert [(t["function"]["name"], t["function"]["description"]) for t in call.tools] == [
        (HANDBOOK_ID, "useful for when you want to answer queries about the Handbook"),
        ("dataset_2", "OfficeFAQ"),
    ]
    assert result.usage is not None and result.usage.total_tokens == 8
    assert result.process_data["usage"]["prompt_tokens"] == 7


async def test_single_mode_without_a_choice_retrieves_nothing(service: KnowledgeService) -> None:
    kr = node(
        retrieval_mode="single",
        single_retrieval_config={"model": {"provider": "openai", "name": "gpt-4o", "mode": "chat"}},
    )
    result = await run(kr, knowledge(service))
    assert result.outputs == {"result": []}
    assert service.requests == []
    with pytest.raises(NodeError, match="single_retrieval_config is required"):
        await run(node(retrieval_mode="single"), knowledge(service))


async def test_manual_metadata_filter_fills_values_from_the_pool(service: KnowledgeService) -> None:
    filtering = {
        "logical_operator": "or",
        "conditions": [
            {"name": "team", "comparison_operator": "is", "value": "{{#start.team#}}"},
            {"name": "year", "comparison_operator": "≥", "value": "{{#start.year#}}"},
            {"name": "team", "comparison_operator": "empty", "value": "{{#start.team#}}"},
        ],
    }
    kr = node(
        dataset_ids=[HANDBOOK_ID],
        metadata_filtering_mode="manual",
        metadata_filtering_conditions=filtering,
    )
    result = await run(kr, knowledge(service), team="fin\nance\t", year=2025)
    assert service.requests[0]["body"]["metadata_condition"] == {
        "logical_operator": "or",
        "conditions": [
            {"name": "team", "comparison_operator": "is", "value": "fin ance"},
            {"name": "year", "comparison_operator": "≥", "value": 2025},
            {"name": "team", "comparison_operator": "empty", "value": "{{#start.team#}}"},
        ],
    }
    assert result.outputs == {"result": []}
    service.requests.clear()
    for mode in ("automatic", "disabled"):
        kr = node(metadata_filtering_mode=mode, metadata_filtering_conditions=filtering)
        await run(kr, knowledge(service))
    assert all("metadata_condition" not in r["body"] for r in service.requests)


async def test_unmapped_dataset_fails_the_node_even_without_a_query(
    service: KnowledgeService,
) -> None:
    message = (
        "Knowledge base unknown-dataset is not mapped: add it to the integrations file's "
        "`knowledge` section"
    )
    for query in ("q", ""):
        with pytest.raises(NodeError) as caught:
            await run(node(dataset_ids=[HANDBOOK_ID, "unknown-dataset"]), knowledge(service), query)
        assert caught.value.message == message
        assert caught.value.error_type == "KnowledgeNotMapped"
    with pytest.raises(NodeError, match="is not mapped"):  # no knowledge service at all
        await run(node(), None)
    assert service.requests == []


async def test_a_failing_service_fails_the_node(service: KnowledgeService) -> None:
    broken = knowledge(service, api_key="wrong", name="FAQ")
    with pytest.raises(NodeError) as caught:
        await run(node(), broken)
    assert caught.value.message == (
        "Knowledge base FAQ: the retrieval service answered HTTP 403 (error 1002: "
        "Authorization failed)"
    )
    assert caught.value.error_type == "KnowledgeServiceError"
    assert caught.value.inputs == {"query": "what about vacation?"}


async def test_query_rules(service: KnowledgeService) -> None:
    with pytest.raises(NodeError, match="^Query variable is not string type.$"):
        await run(node(), knowledge(service), 42)
    assert (await run(node(), knowledge(service), "")).outputs == {"result": []}
    assert (await run(node(query_variable_selector=[]), knowledge(service))).outputs == {}
    images = node(query_variable_selector=None, query_attachment_selector=["sys", "files"])
    assert (await run(images, knowledge(service))).outputs == {"result": []}
    with pytest.raises(NodeError, match="is not mapped"):
        await run(images, None)
    assert service.requests == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"retrieval_mode": None}, "retrieval_mode None is not single or multiple"),
        ({"multiple_retrieval_config": None}, "multiple_retrieval_config is required"),
        ({"dataset_ids": "x"}, "dataset_ids is not a list"),
        ({"metadata_filtering_mode": "smart"}, "metadata_filtering_mode 'smart'"),
    ],
)
def test_unreadable_data(data: dict[str, Any], reason: str) -> None:
    with pytest.raises(NodeConfigError, match=reason):
        node(**data)


async def test_llm_takes_the_result_as_context_and_reports_resources(
    service: KnowledgeService,
) -> None:
    llm = {
        "type": "llm",
        "title": "LLM",
        "model": {"provider": "openai", "name": "gpt-4o", "mode": "chat"},
        "prompt_template": [
            {"role": "system", "text": "Answer from: {{#context#}}"},
            {"role": "user", "text": "{{#sys.query#}}"},
        ],
        "context": {"enabled": True, "variable_selector": ["kr", "result"]},
    }
    kr_data = {
        "type": "knowledge-retrieval",
        "title": "Knowledge",
        "query_variable_selector": ["sys", "query"],
        "dataset_ids": [HANDBOOK_ID, FAQ_ID],
        "retrieval_mode": "multiple",
        "multiple_retrieval_config": {"top_k": 2},
    }
    workflow = graph(
        [
            ("start", {"type": "start", "title": "Start", "variables": []}),
            ("kr", kr_data),
            ("llm", llm),
            ("answer", {"type": "answer", "title": "Answer", "answer": "{{#llm.text#}}"}),
        ],
        [("start", "source", "kr"), ("kr", "source", "llm"), ("llm", "source", "answer")],
    )
    gateway = FakeGateway()
    events: list[Event] = []
    executions: list[NodeExecution] = []
    system = {"files": [], "user_id": "u", "query": "vacation?", "conversation_id": "c"}
    outcome = await run_workflow(
        compile_workflow(workflow),
        workflow_run(AppMode.ADVANCED_CHAT, WorkflowServices(knowledge=knowledge(service))),
        VariablePool(system),
        RunContext(gateway, events.append),
        WorkflowStream("task", "run", MessageStreamContext("task", "m", "c", 1)),
        60,
        executions.append,
    )
    assert outcome.status == "succeeded", outcome.error
    system_prompt = gateway.calls[0].messages[0]["content"]
    assert system_prompt == "Answer from: Vacation is 25 days.\nOffice opens at 8."
    resources = outcome.retriever_resources
    assert [
        (r["position"], r["dataset_name"], r["document_name"], r["score"]) for r in resources
    ] == [
        (1, "Handbook", "vacation.md", 0.9),
        (2, "faq", "hours.md", 0.8),
    ]
    assert resources[0] == {
        "position": 1,
        "dataset_id": HANDBOOK_ID,
        "dataset_name": "Handbook",
        "document_id": "vacation.md",
        "document_name": "vacation.md",
        "data_source_type": "external",
        "segment_id": None,
        "retriever_from": "workflow",
        "score": 0.9,
        "hit_count": 0,
        "word_count": 0,
        "segment_position": 0,
        "index_node_hash": None,
        "content": "Vacation is 25 days.",
        "page": None,
        "doc_metadata": outcome_doc_metadata(executions),
        "title": None,
        "files": None,
        "summary": None,
    }
    kr_run = next(e for e in executions if e.spec.id == "kr")
    assert kr_run.metadata is not None and kr_run.metadata["total_tokens"] == 0


def outcome_doc_metadata(executions: list[NodeExecution]) -> dict[str, Any]:
    kr_run = next(e for e in executions if e.spec.id == "kr")
    assert kr_run.outputs is not None
    return dict(kr_run.outputs["result"][0]["metadata"]["doc_metadata"])


async def test_an_unmapped_dataset_under_an_error_strategy(service: KnowledgeService) -> None:
    kr_data = {
        "type": "knowledge-retrieval",
        "title": "Knowledge",
        "query_variable_selector": ["sys", "query"],
        "dataset_ids": ["nowhere"],
        "retrieval_mode": "multiple",
        "multiple_retrieval_config": {"top_k": 2},
        "error_strategy": "default-value",
        "default_value": [{"key": "result", "type": "array[object]", "value": []}],
    }
    workflow = graph(
        [
            ("start", {"type": "start", "title": "Start", "variables": []}),
            ("kr", kr_data),
            ("end", {"type": "end", "title": "End", "outputs": [
                {"variable": "why", "value_selector": ["kr", "error_message"]}]}),
        ],
        [("start", "source", "kr"), ("kr", "source", "end")],
    )  # fmt: skip
    outcome = await run_workflow(
        compile_workflow(workflow),
        workflow_run(AppMode.WORKFLOW, WorkflowServices(knowledge=knowledge(service))),
        VariablePool({"files": [], "user_id": "u", "query": "q"}),
        RunContext(FakeGateway(), lambda event: None),
        WorkflowStream("task", "run", None),
        60,
    )
    assert outcome.status == "partial-succeeded"
    assert "Knowledge base nowhere is not mapped" in outcome.outputs["why"]
