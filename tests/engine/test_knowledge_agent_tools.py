"""An agent-chat app's datasets as agent tools (Dify's dataset retriever tools) against a
local retrieval service: one tool per dataset in single strategy, one over all in
multiple, the contents as the tool's text, resources reported, failures as tool errors."""

from collections.abc import Iterator
from typing import Any

import pytest

from app.engine.knowledge.agent_tools import dataset_tools
from app.integrations.config import KnowledgeBase
from app.integrations.knowledge.client import ExternalKnowledge
from app.integrations.tools.base import ToolCall, ToolError
from app.net.ssrf import AllowList
from tests.engine.fakes import FakeGateway
from tests.support.knowledge_service import API_KEY, Document, knowledge_service

POLICIES = "a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
FAQ = "kJ8vQ2+mN5pR7tW9yB1dF3hK6nP8sU0wZ2cE4gI6=lO9qT1vX3zA5cE7gI9kM1o"
CALL = ToolCall(user_id="u", app_id="app")
BASES = {
    "policies": [Document("Vacation is 25 days.", 0.9, "vacation.md")],
    "faq": [Document("Office opens at 8.", 0.7, "hours.md"), Document("Parking.", 0.2, "p.md")],
}


@pytest.fixture(scope="module")
def knowledge() -> Iterator[ExternalKnowledge]:
    with knowledge_service(BASES) as service:
        base = {"endpoint": service.url, "api_key": API_KEY}
        yield ExternalKnowledge(
            {
                POLICIES: KnowledgeBase(
                    **base, knowledge_id="policies", name="Policies", description="HR rules"
                ),
                FAQ: KnowledgeBase(**base, knowledge_id="faq", name="FAQ"),
            },
            AllowList.parse("127.0.0.1/32"),
        )


def model_config(mode: str, *ids: str) -> dict[str, Any]:
    datasets = [{"dataset": {"enabled": True, "id": i}} for i in ids]
    return {
        "model": {"provider": "openai", "name": "gpt-4o", "mode": "chat"},
        "agent_mode": {"enabled": True, "strategy": "function_call", "tools": []},
        "dataset_configs": {
            "retrieval_model": mode,
            "top_k": 2,
            "datasets": {"datasets": datasets},
        },
    }


async def test_single_strategy_gives_one_tool_per_dataset(knowledge: ExternalKnowledge) -> None:
    seen: list[list[dict[str, Any]]] = []
    tools = dataset_tools(
        model_config("single", POLICIES, FAQ), "app-1", knowledge, FakeGateway(), seen.append
    )
    assert [(t.spec.ref.tool_name, t.spec.description) for t in tools] == [
        ("dataset_a3c1e2f4_5b6d_4e7f_8a9b_0c1d2e3f4a5b", "HR rules"),
        ("dataset_2", "useful for when you want to answer queries about the FAQ"),
    ]
    assert tools[0].spec.json_schema() == {
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "description": "Query for the dataset to be used to retrieve the dataset.",
            }
        },
        "required": ["query"],
    }
    output = await tools[1].invoke({"query": "hours?"}, CALL)
    assert output.text == "Office opens at 8.\nParking."
    assert [(r["dataset_name"], r["document_name"], r["retriever_from"]) for r in seen[0]] == [
        ("FAQ", "hours.md", "api"),
        ("FAQ", "p.md", "api"),
    ]


async def test_multiple_strategy_gives_one_tool_over_all(knowledge: ExternalKnowledge) -> None:
    tools = dataset_tools(
        model_config("multiple", POLICIES, FAQ), "app-1", knowledge, FakeGateway()
    )
    [tool] = tools
    assert (tool.spec.ref.tool_name, tool.spec.description) == (
        "dataset_app_1",
        "dataset multi retriever and rerank. ",
    )
    output = await tool.invoke({"query": "anything"}, CALL)
    assert output.text == "Vacation is 25 days.\nOffice opens at 8."


async def test_failures_are_tool_errors(knowledge: ExternalKnowledge) -> None:
    [tool] = dataset_tools(model_config("single", "nowhere"), "app", knowledge, FakeGateway())
    with pytest.raises(ToolError, match="Knowledge base nowhere is not mapped"):
        await tool.invoke({"query": "q"}, CALL)
    assert dataset_tools({"model": {}}, "app", knowledge, FakeGateway()) == []
