"""Every graph fixture case, run by Kiln's engine in-process, against the golden that
graphon (Dify's extracted engine) produced for it (tests/fixtures/graphs/README.md).

Compared: run status and outputs, the streamed answer, each node's status, outputs,
selected branch and run count, the nodes that never ran, what the model was asked, and
the conversation variables after the run. Not compared: ids, times, usage, error texts
(informative only). Where graphon is not Dify (`graphon_differs`), KILN_EXPECTS says what
Kiln does instead and why."""

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.engine.nodes.unavailable import UnavailableNode
from tests.engine.graph_cases import (
    all_cases,
    close_shared_sandbox,
    describe,
    load_case,
    load_golden,
    run_case,
)

# Where Kiln follows Dify rather than graphon: {(graph, case): {field: expected}}. For a
# case graphon could not run (a `skipped` golden), the entry is the whole expected result.
KILN_EXPECTS: dict[tuple[str, str], dict[str, Any]] = {}

# graphon cannot run a DSL 0.1.0 iteration (no iteration-start node: its start_node_id is the
# first real child, flagged isIterationStart); Dify runs it like any iteration, from that
# child. Expected from Dify's semantics: one round per topic, the LLM first in each round.
_LEGACY_LINES = ["rivers -> Rivers carve valleys.", "mountains -> Mountains touch clouds."]
_LEGACY_ANSWER = "Lines:\n- " + "\n- ".join(_LEGACY_LINES)
KILN_EXPECTS[("chat_iteration_legacy_llm", "two_topics")] = {
    "status": "succeeded",
    "outputs": {},
    "answer": _LEGACY_ANSWER,
    "error": None,
    "nodes": {
        "1720000000001": {"type": "start", "status": "succeeded", "outputs": {}, "runs": 1},
        "1720000000002": {
            "type": "code",
            "status": "succeeded",
            "outputs": {"topics": ["rivers", "mountains"]},
            "runs": 1,
        },
        "1720000000003": {
            "type": "iteration",
            "status": "succeeded",
            "outputs": {"output": _LEGACY_LINES},
            "runs": 1,
        },
        "1720000000004": {
            "type": "llm",
            "status": "succeeded",
            "outputs": {
                "text": "Mountains touch clouds.",
                "reasoning_content": "",
                "finish_reason": "stop",
            },
            "runs": 2,
        },
        "1720000000005": {
            "type": "template-transform",
            "status": "succeeded",
            "outputs": {"output": _LEGACY_LINES[1]},
            "runs": 2,
        },
        "1720000000006": {
            "type": "answer",
            "status": "succeeded",
            "outputs": {"answer": _LEGACY_ANSWER, "files": []},
            "runs": 1,
        },
    },
    "not_run": [],
    "model_calls": [
        {
            "node_id": "1720000000004",
            "messages": [
                {"role": "system", "content": "Write one line about the topic."},
                {"role": "user", "content": f"Topic #{index}: {topic}"},
            ],
            "stop": [],
        }
        for index, topic in enumerate(["rivers", "mountains"])
    ],
    "conversation_variables_after": {},
}


def _legacy_aggregator(lang: str, greeting: str) -> dict[str, Any]:
    """wf_aggregator_legacy: graphon refuses the `variable-assigner` type id; Dify runs it
    as the variable aggregator (README: `greeting` = Bonjour / Hello)."""
    french = lang == "fr"
    template = "1719000000003" if french else "1719000000004"
    return {
        "status": "succeeded",
        "outputs": {"greeting": greeting},
        "nodes": {
            "1719000000001": {"type": "start", "status": "succeeded", "outputs": {"lang": lang}},
            "1719000000002": {
                "type": "if-else",
                "status": "succeeded",
                "outputs": {"result": french, "selected_case_id": "true" if french else "false"},
                "selected_handle": "true" if french else "false",
            },
            template: {
                "type": "template-transform",
                "status": "succeeded",
                "outputs": {"output": greeting},
            },
            "1719000000005": {
                "type": "variable-assigner",
                "status": "succeeded",
                "outputs": {"output": greeting},
            },
            "1719000000006": {
                "type": "end",
                "status": "succeeded",
                "outputs": {"greeting": greeting},
            },
        },
        "not_run": ["1719000000004" if french else "1719000000003"],
    }


KILN_EXPECTS[("wf_aggregator_legacy", "fr")] = _legacy_aggregator("fr", "Bonjour")
KILN_EXPECTS[("wf_aggregator_legacy", "en")] = _legacy_aggregator("en", "Hello")

# graphon's answer stream stops at the first selector that never resolves ("missing="); Dify
# sends the whole rendered answer (README, graphon_differs): the message text is the answer
# node's own output. (The LLM in this graph fails on its unresolved selector in both.)
KILN_EXPECTS[("chat_templates_unresolved", "default")] = {
    "answer": load_golden("chat_templates_unresolved", "default")["nodes"]["1740000000003"][
        "outputs"
    ]["answer"]
}


def _error_type(graph: str, case: str, node_id: str, error_type: str) -> dict[str, Any]:
    """The golden's nodes with one node's `error_type` output replaced."""
    nodes = copy.deepcopy(load_golden(graph, case)["nodes"])
    nodes[node_id]["outputs"]["error_type"] = error_type
    return {"nodes": nodes}


# A failing code node's `error_type` is Dify's class for sandbox failures,
# `CodeExecutionError` (core/helper/code_executor); the goldens carry the name of the
# oracle's executor error, graphon's `SandboxCodeExecutionError`.
KILN_EXPECTS.update(
    {
        (graph, case): _error_type(graph, case, node_id, "CodeExecutionError")
        for graph, case, node_id in (
            ("chat_error_fail_branch", "not_a_number", "parse"),
            ("wf_error_default_value", "raises", "divide"),
            ("wf_error_retry", "retries_then_default", "flaky"),
        )
    }
)


@pytest.fixture(scope="module", autouse=True)
async def _sandbox_closed() -> AsyncIterator[None]:
    """The cases share one local sandbox (graph_cases.shared_sandbox); stop its workers."""
    yield
    await close_shared_sandbox()


def _unavailable(result_nodes: dict[str, Any]) -> list[str]:
    return sorted(
        {f"{n.spec.type}" for n in result_nodes.values() if isinstance(n, UnavailableNode)}
    )


@pytest.mark.parametrize(("graph", "case"), all_cases(), ids=lambda v: str(v))
async def test_case_matches_golden(graph: str, case: str) -> None:
    golden = load_golden(graph, case)
    if "skipped" in golden and (graph, case) not in KILN_EXPECTS:
        pytest.skip(f"graphon could not run it: {golden['skipped']}")
    from app.engine.workflow.engine import compile_workflow
    from tests.engine.graph_cases import load_dsl

    missing = _unavailable(compile_workflow(load_dsl(graph)["workflow"]).nodes)
    if missing:
        pytest.skip(f"node types not built yet: {', '.join(missing)}")
    spec = load_case(graph, case)
    result = describe(await run_case(graph, case))
    expected = {**golden, **KILN_EXPECTS.get((graph, case), {})}
    for field in ("status", "outputs", "answer", "not_run", "conversation_variables_after"):
        if field in expected:
            assert result.get(field) == expected[field], (field, spec.get("graphon_differs"))
    for node_id, want in expected["nodes"].items():
        got = result["nodes"].get(node_id)
        assert got is not None, f"node {node_id} did not run"
        for key in ("type", "status", "outputs", "selected_handle", "runs"):
            if key in want:
                assert got.get(key) == want[key], (node_id, key, got.get(key), want[key])
    assert set(result["nodes"]) == set(expected["nodes"])
    want_calls = [c["messages"] for c in expected.get("model_calls", [])]
    assert sorted(map(str, result["model_calls"])) == sorted(map(str, want_calls))
