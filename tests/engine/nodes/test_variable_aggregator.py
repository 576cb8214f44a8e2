"""variable-aggregator (and its legacy id variable-assigner): the first selector with a
value, plain and grouped."""

from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.nodes.base import NodeConfigError
from app.engine.nodes.registry import NODE_TYPES
from app.engine.nodes.variable_aggregator.node import VariableAggregatorNode
from app.engine.variables.pool import VariablePool
from tests.engine.nodes.support import graph, run_graph, run_node, spec


def _node(data: dict[str, Any]) -> VariableAggregatorNode:
    return VariableAggregatorNode(spec("variable-aggregator", data, "agg"))


async def test_the_first_selector_with_a_value_wins() -> None:
    pool = VariablePool()
    pool.add("b", "output", "from b")
    pool.add("c", "output", "from c")
    node = _node(
        {"output_type": "string", "variables": [["a", "output"], ["b", "output"], ["c", "output"]]}
    )
    result = await run_node(node, pool)
    assert result.outputs == {"output": "from b"}
    assert result.inputs == {"output": "from b"}


async def test_none_is_a_value_and_nothing_leaves_no_output() -> None:
    pool = VariablePool()
    pool.add("a", "output", None)
    both = _node({"variables": [["a", "output"], ["b", "output"]]})
    assert (await run_node(both, pool)).outputs == {"output": None}
    missing = _node({"variables": [["x", "output"]]})
    assert (await run_node(missing, pool)).outputs == {}


async def test_groups_output_one_object_each() -> None:
    pool = VariablePool()
    pool.add("other", "label", "Other: eeffoc")
    pool.add("other", "score", -1)
    pool.add("tea", "data", {"score": 3})
    data = {
        "output_type": "string",
        "variables": [["tea", "output"]],
        "advanced_settings": {
            "group_enabled": True,
            "groups": [
                {
                    "group_name": "label",
                    "output_type": "string",
                    "variables": [["tea", "output"], ["other", "label"]],
                },
                {
                    "group_name": "score",
                    "output_type": "number",
                    "variables": [["tea", "data", "score"], ["other", "score"]],
                },
                {"group_name": "none", "output_type": "string", "variables": [["x", "y"]]},
            ],
        },
    }
    result = await run_node(_node(data), pool)
    assert result.outputs == {"label": {"output": "Other: eeffoc"}, "score": {"output": 3}}
    assert result.inputs == {"label": "Other: eeffoc", "data.score": 3}


async def test_grouped_output_is_read_through_the_group() -> None:
    workflow = graph(
        [
            ("start", {"type": "start", "variables": [{"variable": "word", "type": "text-input"}]}),
            (
                "agg",
                {
                    "type": "variable-aggregator",
                    "variables": [],
                    "advanced_settings": {
                        "group_enabled": True,
                        "groups": [
                            {
                                "group_name": "g",
                                "output_type": "string",
                                "variables": [["start", "word"]],
                            }
                        ],
                    },
                },
            ),
            ("out", {"type": "answer", "answer": "[{{#agg.g.output#}}]"}),
        ],
        [("start", "source", "agg"), ("agg", "source", "out")],
    )
    run = await run_graph(workflow, AppMode.ADVANCED_CHAT, inputs={"word": "hi"})
    assert run.outcome.answer == "[hi]"


def test_legacy_id_is_the_same_class() -> None:
    assert NODE_TYPES["variable-assigner"] is VariableAggregatorNode
    assert NODE_TYPES["variable-aggregator"] is VariableAggregatorNode


@pytest.mark.parametrize(
    "data",
    [
        {"variables": "a.b"},
        {
            "variables": [["a", "b"]],
            "advanced_settings": {"group_enabled": True, "groups": [{"variables": []}]},
        },
    ],
)
def test_unusable_data_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(NodeConfigError):
        _node(data)
