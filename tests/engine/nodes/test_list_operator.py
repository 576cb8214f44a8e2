"""list-operator: filter, extract, order and limit in Dify's order, on strings, numbers,
booleans and files; empty inputs; Dify's errors."""

from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.list_operator.node import ListOperatorNode
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue
from tests.engine.nodes.support import run_node, spec


def _file(name: str, kind: str, size: int, method: str = "remote_url") -> FileValue:
    extension = "." + name.rsplit(".", 1)[1]
    url = f"https://files.test/{name}"
    return FileValue(kind, method, name, extension, "", size, url, url)


FILES = [
    _file("small.pdf", "document", 10),
    _file("photo.png", "image", 99),
    _file("large.pdf", "document", 900),
]


def _pool() -> VariablePool:
    pool = VariablePool()
    pool.add_outputs(
        "lists",
        {
            "nums": [5, 3, 9, 1, 7],
            "words": ["pear", "apple", "fig", "banana", "grape"],
            "flags": [True, False, True],
            "files": FILES,
            "objects": [{"a": 1}],
            "empty": [],
            "nothing": None,
            "pick": "2",
            "min": 2,
        },
    )
    return pool


def _node(variable: str, **sections: Any) -> ListOperatorNode:
    data: dict[str, Any] = {
        "type": "list-operator",
        "variable": ["lists", variable],
        "filter_by": {"enabled": False, "conditions": []},
        "order_by": {"enabled": False, "key": "", "value": "asc"},
        "limit": {"enabled": False, "size": 10},
        "extract_by": {"enabled": False, "serial": "1"},
    }
    data.update(sections)
    return ListOperatorNode(spec("list-operator", data))


def _filter(operator: str, value: Any, key: str = "") -> dict[str, Any]:
    return {
        "enabled": True,
        "conditions": [{"key": key, "comparison_operator": operator, "value": value}],
    }


async def _result(node: ListOperatorNode) -> dict[str, Any]:
    return (await run_node(node, _pool())).outputs


async def test_numbers_filter_order_limit() -> None:
    node = _node(
        "nums",
        filter_by=_filter(">", "{{#lists.min#}}"),
        order_by={"enabled": True, "key": "", "value": "desc"},
        limit={"enabled": True, "size": 3},
    )
    result = await run_node(node, _pool())
    assert result.outputs == {"result": [9, 7, 5], "first_record": 9, "last_record": 5}
    assert result.inputs == {"variable": [5, 3, 9, 1, 7]}
    assert result.process_data == {"variable": [5, 3, 9, 1, 7]}


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("contains", "a", ["pear", "apple", "banana", "grape"]),
        ("not contains", "a", ["fig"]),
        ("start with", "gr", ["grape"]),
        ("end with", "e", ["apple", "grape"]),
        ("is", "fig", ["fig"]),
        ("is not", "fig", ["pear", "apple", "banana", "grape"]),
        ("in", "a pear or a fig", ["pear", "fig"]),  # a substring test on a text value
        ("not in", "pear fig", ["apple", "banana", "grape"]),
        ("empty", "", []),
        ("not empty", "", ["pear", "apple", "fig", "banana", "grape"]),
    ],
)
async def test_string_filters(operator: str, value: str, expected: list[str]) -> None:
    assert (await _result(_node("words", filter_by=_filter(operator, value))))["result"] == expected


async def test_extract_comes_before_order_and_takes_a_template() -> None:
    node = _node(
        "words",
        extract_by={"enabled": True, "serial": "{{#lists.pick#}}"},
        order_by={"enabled": True, "key": "", "value": "asc"},
    )
    assert await _result(node) == {
        "result": ["apple"],
        "first_record": "apple",
        "last_record": "apple",
    }


async def test_booleans() -> None:
    node = _node("flags", filter_by=_filter("is", True))
    assert (await _result(node))["result"] == [True, True]
    ordered = _node("flags", order_by={"enabled": True, "key": "", "value": "asc"})
    assert (await _result(ordered))["result"] == [False, True, True]


async def test_files_by_attribute() -> None:
    pdfs = _node(
        "files",
        filter_by=_filter("is", ".pdf", "extension"),
        order_by={"enabled": True, "key": "size", "value": "desc"},
    )
    outputs = await _result(pdfs)
    assert [f.filename for f in outputs["result"]] == ["large.pdf", "small.pdf"]
    assert outputs["first_record"].filename == "large.pdf"
    images = await _result(_node("files", filter_by=_filter("in", ["image"], "type")))
    assert [f.filename for f in images["result"]] == ["photo.png"]
    small = await _result(_node("files", filter_by=_filter("<", "100", "size")))
    assert [f.filename for f in small["result"]] == ["small.pdf", "photo.png"]
    by_name = await _result(
        _node("files", order_by={"enabled": True, "key": "name", "value": "asc"})
    )
    assert [f.filename for f in by_name["result"]] == ["large.pdf", "photo.png", "small.pdf"]


@pytest.mark.parametrize("variable", ["empty", "nothing"])
async def test_an_empty_input_is_an_empty_result(variable: str) -> None:
    result = await run_node(_node(variable, filter_by=_filter("contains", "x")), _pool())
    assert result.outputs == {"result": [], "first_record": None, "last_record": None}
    assert result.inputs == {"variable": []}


async def test_limit_keeps_difys_default_size() -> None:
    # `size` defaults to -1 in Dify, and a slice to -1 drops the last item.
    node = _node("nums", limit={"enabled": True})
    assert (await _result(node))["result"] == [5, 3, 9, 1]


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (_node("gone"), r"Variable not found for selector: \['lists', 'gone'\]"),
        (_node("objects"), r"Variable \['lists', 'objects'\] is not an array type"),
        (_node("nums", filter_by=_filter("contains", "1")), "Invalid condition: contains"),
        (_node("nums", filter_by=_filter(">", ["1"])), "Invalid filter value"),
        (_node("nums", filter_by=_filter(">", "x")), "could not convert string to float"),
        (
            _node("words", extract_by={"enabled": True, "serial": "9"}),
            "Invalid serial index: must be <= 5, got 9",
        ),
        (
            _node("words", extract_by={"enabled": True, "serial": "0"}),
            "Invalid serial index: must be >= 1, got 0",
        ),
        (_node("words", extract_by={"enabled": True, "serial": "x"}), "invalid literal for int"),
        (_node("files", filter_by=_filter("is", "x", "colour")), "Invalid key: colour"),
        (
            _node("files", order_by={"enabled": True, "key": "colour", "value": "asc"}),
            "Invalid order key: colour",
        ),
        (_node("flags", filter_by=_filter("is", "true")), "Boolean filter expects a boolean value"),
        (_node("flags", filter_by=_filter(">", True)), "Invalid condition: >"),
    ],
)
async def test_errors(node: ListOperatorNode, message: str) -> None:
    with pytest.raises(NodeError, match=message):
        await run_node(node, _pool())


@pytest.mark.parametrize(
    "sections",
    [
        {"filter_by": _filter("all of", "x")},
        {"order_by": {"enabled": True, "key": "", "value": "sideways"}},
        {"limit": {"enabled": True, "size": "three"}},
        {"filter_by": "on"},
    ],
)
def test_data_that_can_never_run_is_refused(sections: dict[str, Any]) -> None:
    with pytest.raises(NodeConfigError):
        _node("nums", **sections)
