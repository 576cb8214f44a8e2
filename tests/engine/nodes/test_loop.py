"""The loop node in-process: loop variables, when break conditions are checked (before the
first round and after each round, never mid-round), loop-end, the loop_count cap, failures,
events, nesting with iterations, stop and deadline."""

import asyncio
import time
from typing import Any

import pytest

from app.engine.run_context import RunContext
from app.engine.workflow.engine import compile_workflow
from tests.engine.fakes import FakeGateway
from tests.engine.nodes.container_kit import (
    Probe,
    chain,
    condition,
    constant,
    container_test_nodes,  # noqa: F401 (a fixture)
    edge,
    end,
    iteration,
    loop,
    node,
    run_graph,
)

pytestmark = pytest.mark.usefixtures("container_test_nodes")

START = node("start", "start")


def _counting(
    start: Any, *, count: int = 6, until: str | None = None, bumps: int = 1, **data: Any
) -> Any:
    """start → count_up (num from `start`, +1 per bump, breaks when num ≥ until) → end."""
    conditions = [condition(["count_up", "num"], "≥", until)] if until is not None else []
    bump_ids = [f"bump{i}" for i in range(bumps)]
    nodes = [
        START,
        *loop(
            "count_up",
            count,
            [constant("num", "number", start), constant("trail", "string", "go")],
            break_conditions=conditions,
            **data,
        ),
        *(node(b, "bump", "count_up", target=["count_up", "num"]) for b in bump_ids),
        end(("num", ["count_up", "num"]), ("round", ["count_up", "loop_round"])),
    ]
    edges = [*chain("start", "count_up", "end"), *chain("count_upstart", *bump_ids)]
    return nodes, edges


async def test_breaks_after_the_round_that_meets_the_condition() -> None:
    ran = await run_graph(*_counting("1", until="4"))
    assert ran.outcome.status == "succeeded"
    assert ran.outcome.outputs == {"num": 4, "round": 3}
    [loop_node] = ran.runs("count_up")
    assert loop_node.outputs == {"num": 4, "trail": "go", "loop_round": 3}
    assert [x.scope.loop_index for x in ran.runs("bump0")] == [0, 1, 2]
    assert ran.runs("count_upstart") == []


async def test_break_conditions_are_checked_before_the_first_round() -> None:
    ran = await run_graph(*_counting("5", until="3"))
    assert ran.outcome.status == "succeeded"
    assert ran.runs("bump0") == []
    [loop_node] = ran.runs("count_up")
    assert loop_node.outputs == {}  # no round ran: Dify outputs nothing
    assert ran.outcome.outputs == {"num": 5, "round": None}  # the variable is in the pool
    [completed] = ran.of("loop_completed")
    assert completed["steps"] == 0
    assert completed["execution_metadata"]["completed_reason"] == "loop_break"
    assert not ran.of("loop_next")


async def test_break_conditions_are_not_checked_in_the_middle_of_a_round() -> None:
    # num reaches 2 (the break value) after the first bump; the second still runs.
    ran = await run_graph(*_counting("1", until="2", bumps=2))
    assert ran.outcome.outputs == {"num": 3, "round": 1}
    assert len(ran.runs("bump1")) == 1


async def test_loop_count_caps_the_rounds() -> None:
    ran = await run_graph(*_counting("1", count=4, until="100"))
    assert ran.outcome.outputs == {"num": 5, "round": 4}
    [completed] = ran.of("loop_completed")
    assert completed["execution_metadata"]["completed_reason"] == "loop_completed"
    assert completed["steps"] == 4
    assert [n["index"] for n in ran.of("loop_next")] == [1, 2, 3]


async def test_without_conditions_the_loop_runs_loop_count_rounds() -> None:
    ran = await run_graph(*_counting("0", count=3))
    assert ran.outcome.outputs == {"num": 3, "round": 3}


async def test_events_and_their_fields() -> None:
    nodes, edges = _counting("1", until="3")
    nodes[3]["data"]["type"] = "work"  # bump0 → a work node that reports tokens
    nodes[3]["data"].update(source=["count_up", "num"], tokens=2)
    nodes.append(node("bump_real", "bump", "count_up", target=["count_up", "num"]))
    edges.append(edge("bump0", "bump_real"))
    ran = await run_graph(nodes, edges)
    assert [t for t in ran.trace() if t[1] in ("count_up",) or t[0].startswith("loop")] == [
        ("node_started", "count_up"),
        ("loop_started", "count_up"),
        ("loop_next", "count_up"),
        ("loop_completed", "count_up"),
        ("node_finished", "count_up"),
    ]
    [started] = ran.of("loop_started")
    assert started["inputs"] == {"loop_count": 6, "num": 1, "trail": "go"}
    assert started["metadata"] == {"loop_length": 6}
    assert started["id"] == "count_up" and started["node_type"] == "loop"
    [next_round] = ran.of("loop_next")
    assert next_round["index"] == 1 and next_round["pre_loop_output"] == {}
    [completed] = ran.of("loop_completed")
    assert completed["status"] == "succeeded" and completed["error"] is None
    assert completed["outputs"] == {"num": 3, "trail": "go", "loop_round": 2}
    assert completed["total_tokens"] == 4
    metadata = completed["execution_metadata"]
    assert set(metadata["loop_duration_map"]) == {"0", "1"}
    assert metadata["loop_variable_map"] == {
        "0": {"num": 2, "trail": "go"},
        "1": {"num": 3, "trail": "go"},
    }
    children = ran.of("node_finished", "bump0")
    assert [c["loop_id"] for c in children] == ["count_up", "count_up"]
    assert [c["execution_metadata"]["loop_index"] for c in children] == [0, 1]
    [finished] = ran.of("node_finished", "count_up")
    assert finished["execution_metadata"]["total_tokens"] == 4
    assert "loop_variable_map" in finished["execution_metadata"]
    assert ran.outcome.total_tokens == 4


async def test_a_loop_end_node_ends_the_loop() -> None:
    # count from 0; the gate takes `true` to the loop-end once count ≥ stop_at.
    nodes = [
        START,
        *loop(
            "ticker",
            8,
            [
                constant("count", "number", "0"),
                {
                    "label": "stop_at",
                    "var_type": "number",
                    "value_type": "variable",
                    "value": ["start", "limit"],
                },  # fmt: skip
                constant("marks", "array[string]", "[]"),
            ],
        ),
        node("gate", "gate", "ticker", source=["ticker", "count"], at=["ticker", "stop_at"]),
        node("ticker_end", "loop-end", "ticker"),
        node("grow", "bump", "ticker", target=["ticker", "count"]),
        end(("count", ["ticker", "count"])),
    ]
    edges = [
        *chain("start", "ticker", "end"),
        edge("tickerstart", "gate"),
        edge("gate", "ticker_end", "true"),
        edge("gate", "grow", "false"),
    ]
    ran = await run_graph(nodes, edges, {"limit": 3})
    assert ran.outcome.outputs == {"count": 3}
    [loop_node] = ran.runs("ticker")
    assert loop_node.outputs == {"count": 3, "stop_at": 3, "marks": [], "loop_round": 4}
    assert len(ran.runs("gate")) == 4 and len(ran.runs("ticker_end")) == 1
    [completed] = ran.of("loop_completed")
    assert completed["execution_metadata"]["completed_reason"] == "loop_break"


async def test_the_loop_index_is_not_set() -> None:
    nodes, edges = _counting("1", count=2)
    nodes.append(node("peek", "pick", "count_up", parts=[["count_up", "index"]]))
    edges.append(edge("bump0", "peek"))
    ran = await run_graph(nodes, edges)
    assert [x.outputs for x in ran.runs("peek")] == [{"value": [None]}, {"value": [None]}]


async def test_a_loop_variable_from_a_missing_selector_fails_the_loop() -> None:
    nodes = [
        START,
        *loop(
            "l",
            2,
            [{"label": "x", "var_type": "number", "value_type": "variable", "value": ["a", "b"]}],
        ),
        end(("x", ["l", "x"])),
    ]
    ran = await run_graph(nodes, chain("start", "l", "end"))
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "Invalid value for loop variable x"
    assert not ran.of("loop_started")


@pytest.mark.parametrize(
    ("var_type", "raw", "value"),
    [
        ("number", "1", 1),
        ("number", "2.5", 2.5),
        ("number", 3, 3),
        ("string", "go", "go"),
        ("boolean", True, True),
        ("boolean", "false", False),
        ("object", '{"a": 1}', {"a": 1}),
        ("object", {"b": 2}, {"b": 2}),
        ("array[string]", '["a", "b"]', ["a", "b"]),
        ("array[number]", "[1, 2.5]", [1, 2.5]),
        ("array[object]", '[{"a": 1}]', [{"a": 1}]),
        ("array[string]", "", []),
        ("array[string]", ["kept", "out"], []),  # Dify reads array constants as JSON text only
        ("array[boolean]", [True, False], [True, False]),
    ],
)
async def test_constants_are_typed(var_type: str, raw: Any, value: Any) -> None:
    nodes = [START, *loop("l", 1, [constant("v", var_type, raw)]), end(("v", ["l", "v"]))]
    ran = await run_graph(nodes, chain("start", "l", "end"))
    assert ran.outcome.outputs == {"v": value}


@pytest.mark.parametrize(
    ("var_type", "raw"),
    [("number", "abc"), ("string", 5), ("array[number]", '["a"]'), ("number", None)],
)
async def test_a_constant_that_does_not_fit_its_type_cannot_run(var_type: str, raw: Any) -> None:
    nodes = [START, *loop("l", 1, [constant("v", var_type, raw)]), end(("v", ["l", "v"]))]
    ran = await run_graph(nodes, chain("start", "l", "end"))
    assert ran.outcome.status == "failed"
    assert "Type mismatch: expected" in (ran.outcome.error or "")


async def test_the_constants_are_fresh_for_every_run() -> None:
    nodes = [
        START,
        *loop("l", 2, [constant("seen", "array[number]", "[]")]),
        node("add", "bump", "l", target=["l", "seen"], append=["start", "n"]),
        end(("seen", ["l", "seen"])),
    ]
    edges = [*chain("start", "l", "end"), edge("lstart", "add")]
    compiled = compile_workflow({"graph": {"nodes": nodes, "edges": edges}})
    first = await run_graph(nodes, edges, {"n": 1}, compiled=compiled)
    second = await run_graph(nodes, edges, {"n": 2}, compiled=compiled)
    assert first.outcome.outputs == {"seen": [1, 1]}
    assert second.outcome.outputs == {"seen": [2, 2]}
    assert first.runs("l")[0].inputs == {"loop_count": 2, "seen": []}


async def test_a_failing_round_fails_the_loop() -> None:
    nodes, edges = _counting("1", count=5, error_handle_mode="continue-on-error")
    nodes.append(node("boom", "work", "count_up", source=["count_up", "num"], fail_on=3))
    edges.append(edge("bump0", "boom"))
    ran = await run_graph(nodes, edges)
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "cannot work on 3"
    assert len(ran.runs("boom")) == 2
    [completed] = ran.of("loop_completed")
    assert completed["status"] == "failed"
    assert completed["execution_metadata"]["completed_reason"] == "error"
    [loop_node] = ran.runs("count_up")
    assert loop_node.status == "failed" and loop_node.error == "cannot work on 3"


async def test_a_condition_that_cannot_be_read_yet_is_false_before_the_first_round() -> None:
    # [probe, value] exists only once a round ran: false before, checked after.
    nodes, edges = _counting("1", count=5)
    nodes[1]["data"]["break_conditions"] = [condition(["probe", "value"], "≥", "3")]
    nodes.append(node("probe", "work", "count_up", source=["count_up", "num"], times=1))
    edges.append(edge("bump0", "probe"))
    ran = await run_graph(nodes, edges)
    assert ran.outcome.status == "succeeded"
    assert ran.outcome.outputs == {"num": 3, "round": 2}


async def test_a_condition_that_cannot_be_read_after_a_round_fails_the_loop() -> None:
    nodes, edges = _counting("1", count=5)
    nodes[1]["data"]["break_conditions"] = [condition(["nowhere", "value"], "≥", "3")]
    ran = await run_graph(nodes, edges)
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "Variable ['nowhere', 'value'] not found"
    assert len(ran.runs("bump0")) == 1


async def test_loops_and_iterations_nest() -> None:
    # An iteration over rows, a loop in each round counting up to the row's item.
    nodes = [
        START,
        *iteration("rows", ["start", "rows"], ["inner", "n"]),
        *loop(
            "inner",
            10,
            [constant("n", "number", "0")],
            parent="rows",
            break_conditions=[condition(["inner", "n"], "≥", "{{#rows.item#}}")],
        ),
        node("step", "bump", "inner", target=["inner", "n"]),
        end(("out", ["rows", "output"])),
    ]
    edges = [*chain("start", "rows", "end"), edge("rowsstart", "inner"), edge("innerstart", "step")]
    ran = await run_graph(nodes, edges, {"rows": [2, 0, 3]})
    assert ran.outcome.status == "succeeded"
    assert ran.outcome.outputs == {"out": [2, 0, 3]}
    steps = ran.of("node_finished", "step")
    assert {(s["loop_id"], s["iteration_id"]) for s in steps} == {("inner", "rows")}
    assert [
        (s["execution_metadata"]["iteration_index"], s["execution_metadata"]["loop_index"])
        for s in steps
    ] == [(0, 0), (0, 1), (2, 0), (2, 1), (2, 2)]


async def test_a_stop_request_ends_a_long_loop_promptly() -> None:
    stop = asyncio.Event()
    run = RunContext.lasting(FakeGateway(), lambda _: None, stop, 60)
    nodes, edges = _counting("1", count=1000)
    nodes.append(node("slow", "work", "count_up", source=["count_up", "num"], sleep=1))
    edges.append(edge("bump0", "slow"))

    async def stop_soon() -> None:
        await asyncio.sleep(0.25)
        stop.set()

    stopper = asyncio.create_task(stop_soon())
    started = time.perf_counter()
    ran = await run_graph(nodes, edges, run=run)
    await stopper
    assert time.perf_counter() - started < 0.75  # mid-round: the round takes 1 s
    assert ran.outcome.status == "stopped"
    assert len(Probe.started) == 1 and Probe.running == 0
    assert not ran.of("loop_completed")


async def test_the_run_deadline_ends_a_long_loop() -> None:
    nodes, edges = _counting("1", count=1000)
    nodes.append(node("slow", "work", "count_up", source=["count_up", "num"], sleep=0.05))
    edges.append(edge("bump0", "slow"))
    started = time.perf_counter()
    ran = await run_graph(nodes, edges, seconds=0.3)
    assert time.perf_counter() - started < 0.6
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "Maximum execution time exceeded: 0.3s"


async def test_an_answer_inside_a_loop_says_its_text_each_round() -> None:
    # As in Dify (its fixture `loop_contains_answer`): each round's inner answer goes out
    # whole as it succeeds, before the answer after the loop.
    nodes, edges = _counting("0", count=2)
    nodes[-1] = node("top", "answer", answer="n={{#count_up.num#}} said {{#say.text#}}")
    nodes += [
        node("say", "text", "count_up", text="inside words"),
        node("inner_answer", "answer", "count_up", answer="inner {{#say.text#}}"),
    ]
    edges = [*chain("start", "count_up", "top"), *chain("count_upstart", "bump0", "say")]
    edges.append(edge("say", "inner_answer"))
    ran = await run_graph(nodes, edges, chat=True)
    assert ran.outcome.status == "succeeded"
    messages = [e["answer"] for e in ran.events if e["event"] == "message"]
    inner = "inner inside words"
    assert messages[:2] == [inner, inner]
    assert "".join(messages) == inner + inner + "n=2 said inside words"
    assert ran.outcome.answer == inner + inner + "n=2 said inside words"
