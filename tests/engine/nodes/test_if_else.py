"""if-else: cases in order with their case_id handles, the legacy true/false form, what
Dify reports as inputs and process data, and failures."""

from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.if_else.node import IfElseNode
from app.engine.nodes.registry import build_node
from app.engine.nodes.unavailable import UnavailableNode
from app.engine.variables.pool import VariablePool
from tests.engine.nodes.support import run_node, spec


def _condition(selector: list[str], operator: str, value: Any = None) -> dict[str, Any]:
    return {
        "id": "c",
        "varType": "string",
        "variable_selector": selector,
        "comparison_operator": operator,
        "value": value,
    }


def _node(data: dict[str, Any]) -> IfElseNode:
    return IfElseNode(spec("if-else", {"title": "Route", "type": "if-else", **data}))


MULTI = {
    "cases": [
        {
            "case_id": "true",
            "logical_operator": "and",
            "conditions": [
                _condition(["start", "level"], "is", "high"),
                _condition(["start", "amount"], ">", "100"),
            ],
        },
        {
            "case_id": "mid-uuid",
            "logical_operator": "or",
            "conditions": [
                _condition(["start", "level"], "is", "mid"),
                _condition(["start", "amount"], ">", "{{#start.cap#}}"),
            ],
        },
    ]
}


def _pool(**inputs: Any) -> VariablePool:
    pool = VariablePool()
    pool.add_outputs("start", inputs)
    return pool


async def test_the_first_case_that_holds_selects_its_handle() -> None:
    result = await run_node(_node(MULTI), _pool(level="low", amount=5000, cap=1000))
    assert result.handle == "mid-uuid"
    assert result.outputs == {"result": True, "selected_case_id": "mid-uuid"}
    # Inputs: the conditions of the last case tried, up to where it was decided.
    assert result.inputs == {
        "conditions": [
            {"actual_value": "low", "expected_value": "mid", "comparison_operator": "is"},
            {"actual_value": 5000, "expected_value": "1000", "comparison_operator": ">"},
        ]
    }
    tried = result.process_data["condition_results"]
    assert [t["results"] for t in tried] == [[False], [False, True]]
    assert [t["final_result"] for t in tried] == [False, True]
    assert tried[0]["group"]["case_id"] == "true"
    assert tried[0]["group"]["conditions"][0] == {
        "variable_selector": ["start", "level"],
        "comparison_operator": "is",
        "value": "high",
        "sub_variable_condition": None,
    }


async def test_no_case_holds_selects_false() -> None:
    result = await run_node(_node(MULTI), _pool(level="high", amount=50, cap=1000))
    assert result.handle == "false"
    assert result.outputs == {"result": False, "selected_case_id": "false"}
    assert len(result.process_data["condition_results"]) == 2


async def test_legacy_conditions_select_true_or_false() -> None:
    data = {
        "logical_operator": "and",
        "conditions": [
            _condition(["start", "score"], "≥", "50"),
            _condition(["start", "name"], "not empty", ""),
        ],
    }
    passed = await run_node(_node(data), _pool(score=72, name="Iris"))
    assert (passed.handle, passed.outputs["selected_case_id"]) == ("true", "true")
    assert passed.process_data == {
        "condition_results": [{"group": "default", "results": [True, True], "final_result": True}]
    }
    failed = await run_node(_node(data), _pool(score=49.5, name="Iris"))
    assert (failed.handle, failed.outputs["result"]) == ("false", False)


async def test_empty_cases_fall_back_to_the_legacy_form() -> None:
    # Dify reads `cases: []` as absent; no legacy conditions: `and` over nothing holds.
    result = await run_node(_node({"cases": []}), _pool())
    assert result.handle == "true"


async def test_a_missing_variable_fails_the_node() -> None:
    data = {
        "cases": [
            {
                "case_id": "true",
                "logical_operator": "and",
                "conditions": [_condition(["start", "a"], "is", "x")],
            },
            {
                "case_id": "second",
                "logical_operator": "and",
                "conditions": [_condition(["start", "gone"], "is", "x")],
            },
        ]
    }
    with pytest.raises(NodeError) as caught:
        await run_node(_node(data), _pool(a="y"))
    assert caught.value.message == "Variable ['start', 'gone'] not found"
    assert caught.value.inputs == {"conditions": []}
    assert len(caught.value.process_data["condition_results"]) == 1


async def test_a_type_error_fails_the_node() -> None:
    data = {"conditions": [_condition(["start", "n"], "start with", "1")]}
    with pytest.raises(NodeError, match="Invalid actual value type: string"):
        await run_node(_node(data), _pool(n=12))


@pytest.mark.parametrize(
    "data",
    [
        {"cases": [{"logical_operator": "and", "conditions": []}]},
        {"cases": [{"case_id": "a", "conditions": []}]},
        {"cases": [{"case_id": "a", "logical_operator": "xor", "conditions": []}]},
        {"conditions": [_condition(["a", "b"], "regex match", "x")]},
        {"cases": "nope"},
    ],
)
def test_data_that_can_never_run_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(NodeConfigError):
        _node(data)
    node = build_node(spec("if-else", {"type": "if-else", **data}))
    assert isinstance(node, UnavailableNode)


def test_if_else_is_a_branch_node() -> None:
    assert IfElseNode.is_branch
