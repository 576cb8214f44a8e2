"""The variable assigner, v1 and v2: every operation, Dify's checks and messages, writes
that land together and persist conversation variables at once, and answers that wait for
the assigners that change what they show."""

from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.nodes.assigner.node import AssignerNode
from app.engine.nodes.base import NodeConfigError, NodeContext, NodeError
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.workflow.env import RunScope, WorkflowLimits, WorkflowServices
from tests.engine.fakes import FakeGateway
from tests.engine.nodes.support import graph, run_graph, run_node, spec, workflow_run


def _pool(**conversation: Any) -> VariablePool:
    pool = VariablePool({"query": "red fox"}, {}, conversation)
    pool.add_outputs("src", {"words": ["red", "fox"], "row": {"t": "x"}, "none": None, "n": 4})
    return pool


class Saved(dict[str, Any]):
    def services(self) -> WorkflowServices:
        async def save(name: str, value: Any) -> None:
            self[name] = value

        return WorkflowServices(save_conversation_variable=save)


def _v1(mode: str, target: str, source: list[str] | None = None) -> AssignerNode:
    data = {
        "type": "assigner",
        "assigned_variable_selector": ["conversation", target],
        "write_mode": mode,
        "input_variable_selector": source or [],
    }
    return AssignerNode(spec("assigner", data))


def _item(
    target: list[str], operation: str, value: Any = None, input_type: str = "constant"
) -> dict[str, Any]:
    return {
        "variable_selector": target,
        "input_type": input_type,
        "operation": operation,
        "value": value,
    }


def _v2(*items: dict[str, Any]) -> AssignerNode:
    data = {"type": "assigner", "version": "2", "title": "Assign", "items": list(items)}
    return AssignerNode(spec("assigner", data))


# -- v1 ----------------------------------------------------------------------------------


async def test_v1_write_modes() -> None:
    pool, saved = _pool(last="", asked=["hi"], scratch="temporary"), Saved()
    over = await run_node(_v1("over-write", "last", ["sys", "query"]), pool, saved.services())
    await run_node(_v1("append", "asked", ["sys", "query"]), pool, saved.services())
    clear = await run_node(_v1("clear", "scratch"), pool, saved.services())
    assert pool.scope("conversation") == {
        "last": "red fox",
        "asked": ["hi", "red fox"],
        "scratch": "",
    }
    assert saved == {"last": "red fox", "asked": ["hi", "red fox"], "scratch": ""}
    assert over.inputs == {"value": "red fox"}
    assert clear.inputs == {"value": ""}
    assert over.outputs == {}
    assert over.process_data == {
        "__updated_variables": [
            {
                "name": "last",
                "selector": ["conversation", "last"],
                "value_type": "string",
                "new_value": "red fox",
            }
        ]
    }


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (_v1("over-write", "gone", ["sys", "query"]), "assigned variable not found"),
        (_v1("over-write", "last", ["sys", "nothing"]), "input value not found"),
        (_v1("append", "last", ["sys", "query"]), "append mode requires an array variable"),
    ],
)
async def test_v1_errors(node: AssignerNode, message: str) -> None:
    with pytest.raises(NodeError, match=message):
        await run_node(node, _pool(last="x"))


# -- v2 ----------------------------------------------------------------------------------


async def test_v2_numbers() -> None:
    pool = _pool(count=10, total=100, ratio=0.5, level=1)
    node = _v2(
        _item(["conversation", "count"], "+=", 5),
        _item(["conversation", "total"], "-=", 2.5),
        _item(["conversation", "ratio"], "*=", 3),
        _item(["conversation", "count"], "/=", 2),  # reads the 15 written above
        _item(["conversation", "level"], "set", 9),
    )
    result = await run_node(node, pool)
    assert pool.scope("conversation") == {"count": 7.5, "total": 97.5, "ratio": 1.5, "level": 9}
    assert result.process_data["count"] == 7.5
    assert [u["name"] for u in result.process_data["__updated_variables"]] == [
        "count",
        "total",
        "ratio",
        "level",
    ]
    assert result.inputs["items"][0] == {
        "variable_selector": ["conversation", "count"],
        "input_type": "constant",
        "operation": "+=",
        "value": 5,
    }
    assert result.inputs["version"] == "2"


async def test_v2_strings_objects_and_clear() -> None:
    pool = _pool(
        name="anon", note="keep", profile={"a": 1}, settings={"dark": True}, flag=True, n=3.5
    )
    node = _v2(
        _item(["conversation", "name"], "over-write", ["sys", "query"], "variable"),
        _item(["conversation", "note"], "clear", None, "variable"),
        _item(["conversation", "profile"], "set", '{"name": "Fox"}'),  # JSON text for an object
        _item(["conversation", "settings"], "clear", None, "variable"),
        _item(["conversation", "flag"], "clear", None, "variable"),
        _item(["conversation", "n"], "clear", None, "variable"),
    )
    await run_node(node, pool)
    assert pool.scope("conversation") == {
        "name": "red fox",
        "note": "",
        "profile": {"name": "Fox"},
        "settings": {},
        "flag": False,
        "n": 0.0,
    }


async def test_v2_arrays() -> None:
    pool = _pool(tags=["old"], rows=[{"t": "seed"}], empty=[], spare=[])
    node = _v2(
        _item(["conversation", "tags"], "append", ["sys", "query"], "variable"),
        _item(["conversation", "tags"], "extend", ["src", "words"], "variable"),
        _item(["conversation", "tags"], "remove-first", None, "variable"),
        _item(["conversation", "rows"], "append", ["src", "row"], "variable"),
        _item(["conversation", "rows"], "remove-last", None, "variable"),
        _item(["conversation", "empty"], "remove-last", None, "variable"),
        _item(["conversation", "spare"], "over-write", ["src", "words"], "variable"),
    )
    await run_node(node, pool)
    assert pool.scope("conversation") == {
        "tags": ["red fox", "red", "fox"],
        "rows": [{"t": "seed"}],
        "empty": [],
        "spare": ["red", "fox"],
    }


async def test_v2_an_input_variable_holding_none_skips_its_item() -> None:
    pool = _pool(name="anon")
    result = await run_node(
        _v2(_item(["conversation", "name"], "over-write", ["src", "none"], "variable")), pool
    )
    assert pool.scope("conversation") == {"name": "anon"}
    assert result.process_data == {"__updated_variables": []}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            _item(["conversation", "gone"], "over-write", "x"),
            r"Variable \['conversation', 'gone'\] not found",
        ),
        (
            _item(["conversation", "name"], "over-write", ["src", "gone"], "variable"),
            r"Variable \['src', 'gone'\] not found",
        ),
        (
            _item(["conversation", "name"], "append", "x"),
            "Operation append is not supported for type string",
        ),
        (
            _item(["conversation", "count"], "+=", ["src", "n"], "variable"),
            "Input type variable is not supported for operation \\+=",
        ),
        (
            _item(["conversation", "tags"], "append", "x"),
            "Input type constant is not supported for operation append",
        ),
        (_item(["conversation", "count"], "/=", 0), "Invalid input value 0"),
        (_item(["conversation", "count"], "+=", "5"), "Invalid input value 5"),
        (_item(["conversation", "name"], "over-write", 5), "Invalid input value 5"),
        (_item(["conversation", "profile"], "set", "not json"), "Invalid input value not json"),
        (
            _item(["conversation", "tags"], "append", ["src", "row"], "variable"),
            "Invalid input value",
        ),
        (
            _item(["conversation", "name"], "clear", None),
            "Input type constant is not supported for operation clear",
        ),
    ],
)
async def test_v2_errors(item: dict[str, Any], message: str) -> None:
    pool = _pool(name="anon", count=1, tags=["a"], profile={})
    with pytest.raises(NodeError, match=message) as caught:
        await run_node(_v2(item), pool)
    assert caught.value.inputs["items"]


async def test_v2_a_failing_item_writes_nothing() -> None:
    pool, saved = _pool(name="anon", count=1), Saved()
    node = _v2(
        _item(["conversation", "name"], "set", "new"), _item(["conversation", "count"], "/=", 0)
    )
    with pytest.raises(NodeError):
        await run_node(node, pool, saved.services())
    assert pool.scope("conversation") == {"name": "anon", "count": 1}
    assert saved == {}


async def test_v2_loop_variables_are_plain_pool_writes() -> None:
    pool, saved = _pool(), Saved()
    pool.add("loop1", "total", 2)
    await run_node(_v2(_item(["loop1", "total"], "+=", 3)), pool, saved.services())
    assert pool.get(["loop1", "total"]) == 5
    assert saved == {}


def test_written_variables_are_the_targets() -> None:
    node = _v2(_item(["conversation", "a"], "set", "x"), _item(["loop1", "b"], "+=", 1))
    assert node.written_variables() == {("conversation", "a"), ("loop1", "b")}
    assert _v1("clear", "c").written_variables() == {("conversation", "c")}


@pytest.mark.parametrize(
    "data",
    [
        {"version": "2", "items": [_item(["conversation", "a"], "multiply", 2)]},
        {"version": "2", "items": [_item(["conversation", "a"], "set", 2, "template")]},
        {
            "version": "2",
            "items": [_item(["conversation", "a"], "over-write", "sys.query", "variable")],
        },
        {"version": "2", "items": "nope"},
        {"version": "3", "items": []},
        {"assigned_variable_selector": ["conversation", "a"], "write_mode": "merge"},
        {"assigned_variable_selector": "conversation.a", "write_mode": "clear"},
    ],
)
def test_data_that_can_never_run_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(NodeConfigError):
        AssignerNode(spec("assigner", {"type": "assigner", **data}))


# -- in a run ------------------------------------------------------------------------------


def _chat(after: dict[str, Any] | None = None) -> dict[str, Any]:
    nodes = [
        ("start", {"type": "start", "variables": []}),
        ("before", {"type": "answer", "answer": "before={{#conversation.last#}} "}),
        (
            "keep",
            {
                "type": "assigner",
                "assigned_variable_selector": ["conversation", "last"],
                "write_mode": "over-write",
                "input_variable_selector": ["sys", "query"],
            },
        ),
        ("after", {"type": "answer", "answer": "after={{#conversation.last#}}"}),
    ]
    edges = [
        ("start", "source", "before"),
        ("before", "source", "keep"),
        ("keep", "source", "after"),
    ]
    if after is not None:
        nodes.append(("fail", after))
        edges.append(("after", "source", "fail"))
    return graph(nodes, edges)


async def test_an_answer_shows_what_the_assigners_before_it_wrote() -> None:
    run = await run_graph(_chat(), AppMode.ADVANCED_CHAT, conversation={"last": "old"}, query="new")
    assert run.outcome.answer == "before=old after=new"
    assert run.saved == {"last": "new"}


async def test_a_conversation_variable_persists_when_the_run_fails_later() -> None:
    failing = {"type": "list-operator", "variable": ["nowhere", "list"]}
    run = await run_graph(
        _chat(failing), AppMode.ADVANCED_CHAT, conversation={"last": "old"}, query="new"
    )
    assert run.outcome.status == "failed"
    assert run.outcome.error == "Variable not found for selector: ['nowhere', 'list']"
    assert run.saved == {"last": "new"}


async def test_a_value_over_the_variable_size_limit_fails_and_writes_nothing() -> None:
    pool = _pool(note="small")
    saved = Saved()
    node = _v2(_item(["conversation", "note"], "over-write", "x" * 3000))
    run = workflow_run(services=saved.services())
    run.limits = WorkflowLimits(max_variable_size=1000)
    ctx = NodeContext(
        spec=node.spec,
        execution_id="execution",
        pool=pool,
        run=RunContext(FakeGateway(), lambda event: None),
        workflow=run,
        scope=RunScope(),
        stream=lambda text: None,
    )
    with pytest.raises(NodeError, match="larger than 1000 bytes"):
        await node.run(ctx)
    assert pool.get(("conversation", "note")) == "small" and saved == {}
