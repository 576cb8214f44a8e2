"""An answer node inside an iteration or a loop says its text each round, as Dify does:
when it succeeds its whole answer goes out as a message chunk (selector `[node, answer]`),
straight away rather than in the top level's answer order, and it is part of the message's
answer. Kiln used to drop it."""

from typing import Any

from app.core.app_mode import AppMode
from tests.engine.nodes.support import run_graph


def _node(node_id: str, node_type: str, parent: str | None = None, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": node_id, "data": {"type": node_type, "title": node_id, **data}}
    if parent is not None:
        raw["parentId"] = parent
        raw["data"]["isInIteration"] = node_type != "loop-start"
    return raw


def _edges(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"id": f"{s}-{t}", "source": s, "sourceHandle": "source", "target": t} for s, t in pairs
    ]


def _iteration_app() -> dict[str, Any]:
    nodes = [
        _node("start", "start", variables=[]),
        _node(
            "each",
            "iteration",
            iterator_selector=["conversation", "pets"],
            output_selector=["said", "answer"],
            start_node_id="eachstart",
        ),
        _node("eachstart", "iteration-start", "each"),
        _node("said", "answer", "each", answer="{{#each.item#}};"),
        _node("after", "answer", answer="that was all"),
    ]
    edges = _edges(("start", "each"), ("eachstart", "said"), ("each", "after"))
    return {"graph": {"nodes": nodes, "edges": edges}}


def _loop_app() -> dict[str, Any]:
    at_two = {
        "comparison_operator": "≥",
        "id": "stop",
        "value": "2",
        "varType": "number",
        "variable_selector": ["count", "n"],
    }
    bump = {
        "input_type": "constant",
        "operation": "+=",
        "value": 1,
        "variable_selector": ["count", "n"],
    }
    counter = {
        "id": "n",
        "label": "n",
        "value": "0",
        "value_type": "constant",
        "var_type": "number",
    }
    nodes = [
        _node("start", "start", variables=[]),
        _node(
            "count",
            "loop",
            loop_count=5,
            loop_variables=[counter],
            break_conditions=[at_two],
            logical_operator="and",
            start_node_id="countstart",
        ),
        _node("countstart", "loop-start", "count"),
        _node("bump", "assigner", "count", version="2", items=[bump]),
        _node("tell", "answer", "count", answer="{{#count.n#}},"),
        _node("after", "answer", answer="{{#sys.query#}} + {{#count.n#}}"),
    ]
    edges = _edges(("start", "count"), ("countstart", "bump"), ("bump", "tell"), ("count", "after"))
    return {"graph": {"nodes": nodes, "edges": edges}}


async def test_answer_inside_an_iteration_speaks_each_round() -> None:
    ran = await run_graph(
        _iteration_app(), AppMode.ADVANCED_CHAT, conversation={"pets": ["cat", "dog"]}
    )
    assert ran.outcome.status == "succeeded", ran.outcome.error
    assert ran.streamed() == [
        ("cat;", ["said", "answer"]),
        ("dog;", ["said", "answer"]),
        ("that was all", ["after", "answer"]),
    ]
    assert ran.outcome.answer == "cat;dog;that was all"


async def test_the_chunk_comes_before_the_inner_answer_finishes() -> None:
    ran = await run_graph(_iteration_app(), AppMode.ADVANCED_CHAT, conversation={"pets": ["cat"]})
    kinds = [
        (e["event"], e.get("answer") or (e.get("data") or {}).get("node_id"))
        for e in ran.events
        if e.get("event") in ("message", "node_finished")
    ]
    assert kinds.index(("message", "cat;")) + 1 == kinds.index(("node_finished", "said"))


async def test_answer_inside_a_loop_speaks_each_round() -> None:
    ran = await run_graph(_loop_app(), AppMode.ADVANCED_CHAT, query="hi")
    assert ran.outcome.status == "succeeded", ran.outcome.error
    assert ran.outcome.answer == "1,2,hi + 2"
    assert [text for text, _ in ran.streamed()][:2] == ["1,", "2,"]


async def test_an_empty_inner_answer_says_nothing() -> None:
    app = _iteration_app()
    app["graph"]["nodes"][3]["data"]["answer"] = ""
    ran = await run_graph(app, AppMode.ADVANCED_CHAT, conversation={"pets": ["cat"]})
    assert ran.outcome.status == "succeeded", ran.outcome.error
    assert ran.streamed() == [("that was all", ["after", "answer"])]
