"""The logic nodes (if-else, aggregator, assigner, list-operator) against the goldens of
every fixture that uses them, before the other node types exist: nodes of other types
replay what graphon recorded for them (their golden outputs), so the logic nodes, the
branches they select, the nodes skipped and the streamed answer are Kiln's own.

Once every node type is built, tests/engine/test_graph_goldens.py covers the same cases
end to end; this stays as the logic nodes' own check."""

from typing import Any

import pytest

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.variables.values import file_from_mapping
from app.engine.workflow import engine as workflow_engine
from tests.engine import graph_cases
from tests.engine.graph_cases import describe, load_golden, run_case
from tests.engine.test_graph_goldens import KILN_EXPECTS

LOGIC_TYPES = {"if-else", "variable-aggregator", "variable-assigner", "assigner", "list-operator"}
CASES = [
    ("chat_aggregator", "tea"),
    ("chat_aggregator", "other"),
    ("chat_assigner_v1", "first"),
    ("chat_assigner_v1", "with_earlier_values"),
    ("chat_assigner_v2", "defaults"),
    ("chat_assigner_v2", "overridden"),
    ("wf_aggregator_legacy", "fr"),
    ("wf_aggregator_legacy", "en"),
    ("wf_end_branches_legacy", "pass"),
    ("wf_end_branches_legacy", "fail_low_score"),
    ("wf_end_branches_legacy", "fail_empty_name"),
    ("wf_ifelse_multicase", "high"),
    ("wf_ifelse_multicase", "mid_by_amount"),
    ("wf_ifelse_multicase", "low"),
    ("wf_ifelse_multicase", "else"),
    ("wf_ifelse_numbers_arrays", "ten_with_files"),
    ("wf_ifelse_numbers_arrays", "two_and_a_half_no_files"),
    ("wf_ifelse_numbers_arrays", "zero_with_image_only"),
    ("wf_ifelse_strings", "apple_sentence"),
    ("wf_ifelse_strings", "other_sentence"),
    ("wf_ifelse_strings", "word_missing"),
    ("wf_join_after_ifelse_skip", "big"),
    ("wf_join_after_ifelse_skip", "small"),
    ("wf_list_operator", "with_files"),
    ("wf_list_operator", "no_files"),
]


def _value(recorded: Any) -> Any:
    """A golden value back as a pool value (files were written as mappings)."""
    if isinstance(recorded, dict) and {"transfer_method", "filename"} <= set(recorded):
        return file_from_mapping(recorded)
    if isinstance(recorded, list):
        return [_value(item) for item in recorded]
    if isinstance(recorded, dict):
        return {key: _value(item) for key, item in recorded.items()}
    return recorded


class ReplayNode(Node):
    """Stands in for a node of another type: returns what graphon's run recorded."""

    node_type = "replay"

    def __init__(self, spec: NodeSpec, outputs: dict[str, Any]) -> None:
        super().__init__(spec)
        self.outputs = outputs

    async def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(outputs={k: _value(v) for k, v in self.outputs.items()})


def _expected(graph: str, case: str) -> dict[str, Any]:
    return {**load_golden(graph, case), **KILN_EXPECTS.get((graph, case), {})}


@pytest.mark.parametrize(("graph", "case"), CASES, ids=lambda v: str(v))
async def test_logic_nodes_match_the_golden(
    graph: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _expected(graph, case)
    compile_workflow = workflow_engine.compile_workflow

    def compile_with_replays(workflow: Any) -> workflow_engine.CompiledWorkflow:
        compiled = compile_workflow(workflow)
        for node_id, node in compiled.nodes.items():
            if node.spec.type not in LOGIC_TYPES | {"start", "end", "answer"}:
                recorded = expected["nodes"].get(node_id, {}).get("outputs", {})
                compiled.nodes[node_id] = ReplayNode(node.spec, recorded)
        return compiled

    monkeypatch.setattr(graph_cases, "compile_workflow", compile_with_replays)
    result = describe(await run_case(graph, case))
    for field in ("status", "outputs", "answer", "not_run", "conversation_variables_after"):
        if field in expected:
            assert result.get(field) == expected[field], field
    assert set(result["nodes"]) == set(expected["nodes"])
    for node_id, want in expected["nodes"].items():
        got = result["nodes"][node_id]
        for key in ("type", "status", "outputs", "selected_handle", "runs"):
            if key in want:
                assert got.get(key) == want[key], (node_id, key)
