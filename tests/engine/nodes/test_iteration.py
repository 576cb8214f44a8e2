"""The iteration node in-process: rounds and their order, parallel rounds and their bound,
error modes, flattening, empty and invalid input, nesting, events, streaming, stop and
deadline. Graphs are tiny: start → iteration (test-only nodes inside) → end."""

import asyncio
import time
from typing import Any

import pytest

from app.engine.run_context import RunContext
from tests.engine.fakes import FakeGateway
from tests.engine.nodes.container_kit import (
    Probe,
    chain,
    container_test_nodes,  # noqa: F401 (a fixture)
    edge,
    end,
    iteration,
    node,
    run_graph,
)

pytestmark = pytest.mark.usefixtures("container_test_nodes")

START = node("start", "start")


def _doubling(items: list[Any], *, work: dict[str, Any] | None = None, **data: Any) -> Any:
    """start → each (work inside, doubling [each, item]) → end(out = each.output)."""
    nodes = [
        START,
        *iteration("each", ["start", "items"], ["work", "value"], **data),
        node("work", "work", "each", source=["each", "item"], **(work or {})),
        end(("out", ["each", "output"])),
    ]
    edges = [*chain("start", "each", "end"), edge("eachstart", "work")]
    return nodes, edges, {"items": items}


async def test_sequential_rounds_collect_outputs_in_order() -> None:
    ran = await run_graph(*_doubling([1, 2, 3]))
    assert ran.outcome.status == "succeeded"
    assert ran.outcome.outputs == {"out": [2, 4, 6]}
    assert [x.scope.iteration_index for x in ran.runs("work")] == [0, 1, 2]
    assert {x.scope.iteration_id for x in ran.runs("work")} == {"each"}
    assert ran.runs("eachstart") == []  # the start marker is never reported


async def test_events_and_their_fields() -> None:
    ran = await run_graph(*_doubling([5, 6], work={"tokens": 3}))
    assert ran.trace() == [
        ("node_started", "start"),
        ("node_finished", "start"),
        ("node_started", "each"),
        ("iteration_started", "each"),
        ("iteration_next", "each"),
        ("node_started", "work"),
        ("node_finished", "work"),
        ("iteration_next", "each"),
        ("node_started", "work"),
        ("node_finished", "work"),
        ("iteration_completed", "each"),
        ("node_finished", "each"),
        ("node_started", "end"),
        ("node_finished", "end"),
    ]
    [started] = ran.of("iteration_started")
    assert started["id"] == "each" and started["node_type"] == "iteration"
    assert started["title"] == "each" and started["extras"] == {}
    assert started["inputs"] == {"iterator_selector": [5, 6]}
    assert started["metadata"] == {"iterator_length": 2}
    assert [n["index"] for n in ran.of("iteration_next")] == [0, 1]
    [completed] = ran.of("iteration_completed")
    assert completed["status"] == "succeeded" and completed["error"] is None
    assert completed["outputs"] == {"output": [10, 12]}
    assert completed["inputs"] == {"iterator_selector": [5, 6]}
    assert completed["steps"] == 2 and completed["total_tokens"] == 6
    metadata = completed["execution_metadata"]
    assert set(metadata["iteration_duration_map"]) == {"0", "1"}
    assert (metadata["total_tokens"], metadata["total_price"]) == (6, "1.0")
    assert completed["elapsed_time"] >= 0 and completed["finished_at"] >= completed["created_at"]
    children = ran.of("node_finished", "work")
    assert [c["iteration_id"] for c in children] == ["each", "each"]
    assert [c["execution_metadata"]["iteration_index"] for c in children] == [0, 1]
    [finished] = ran.of("node_finished", "each")
    assert finished["status"] == "succeeded" and finished["outputs"] == {"output": [10, 12]}
    assert finished["execution_metadata"]["total_tokens"] == 6
    assert set(finished["execution_metadata"]["iteration_duration_map"]) == {"0", "1"}
    # The inside's tokens count once for the run, not again for the container.
    assert ran.outcome.total_tokens == 6


async def test_parallel_rounds_keep_item_order_whatever_they_take() -> None:
    nodes, edges, inputs = _doubling(
        [3, 1, 2], work={"sleep_per_unit": 0.1}, is_parallel=True, parallel_nums=3
    )
    ran = await run_graph(nodes, edges, inputs)
    assert ran.outcome.outputs == {"out": [6, 2, 4]}
    finished = [x.scope.iteration_index for x in ran.runs("work")]
    assert finished == [1, 2, 0]  # the shortest round finished first
    assert ran.elapsed < 0.5  # 0.3 s of the longest round, not 0.6 s of all in turn


async def test_parallel_rounds_are_bounded_by_parallel_nums() -> None:
    nodes, edges, inputs = _doubling(
        list(range(7)), work={"sleep": 0.03}, is_parallel=True, parallel_nums=3
    )
    ran = await run_graph(nodes, edges, inputs)
    assert ran.outcome.outputs == {"out": [0, 2, 4, 6, 8, 10, 12]}
    assert Probe.most == 3
    assert sorted(Probe.started) == list(range(7))


async def test_parallel_nums_defaults_to_ten() -> None:
    nodes, edges, inputs = _doubling(list(range(25)), work={"sleep": 0.02}, is_parallel=True)
    nodes[1]["data"].pop("parallel_nums", None)
    await run_graph(nodes, edges, inputs)
    assert Probe.most == 10


@pytest.mark.parametrize("parallel", [False, True])
async def test_terminated_fails_on_the_first_failing_round(parallel: bool) -> None:
    nodes, edges, inputs = _doubling(
        [1, 2, 3], work={"fail_on": 2}, is_parallel=parallel, parallel_nums=1
    )
    ran = await run_graph(nodes, edges, inputs)
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "cannot work on 2"
    assert [x.status for x in ran.runs("work")] == ["succeeded", "failed"]
    [each] = ran.runs("each")
    assert each.status == "failed" and each.error == "cannot work on 2"
    assert each.outputs == {"output": [2, None, None] if parallel else [2]}
    [completed] = ran.of("iteration_completed")
    assert completed["status"] == "failed" and completed["outputs"] == each.outputs
    assert ran.runs("end") == []


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize(
    ("mode", "expected"),
    [("continue-on-error", [2, None, 6, None]), ("remove-abnormal-output", [2, 6])],
)
async def test_tolerated_failures(parallel: bool, mode: str, expected: list[Any]) -> None:
    nodes, edges, inputs = _doubling(
        [1, "x", 3, "x"],
        work={"fail_on": "x"},
        error_handle_mode=mode,
        is_parallel=parallel,
        parallel_nums=2,
    )
    ran = await run_graph(nodes, edges, inputs)
    assert ran.outcome.outputs == {"out": expected}
    # A failed round inside counts as an exception: the run is partial-succeeded.
    assert ran.outcome.status == "partial-succeeded"
    assert ran.outcome.exceptions == 2
    assert [x.status for x in ran.runs("each")] == ["succeeded"]


async def test_terminated_is_the_default_error_mode() -> None:
    nodes, edges, inputs = _doubling([1, 2], work={"fail_on": 1})
    ran = await run_graph(nodes, edges, inputs)
    assert ran.outcome.status == "failed"
    assert len(ran.runs("work")) == 1


@pytest.mark.parametrize(("flatten", "expected"), [(True, [1, 0, 2, 1]), (False, [[1, 0], [2, 1]])])
async def test_flatten_output(flatten: bool, expected: list[Any]) -> None:
    nodes = [
        START,
        *iteration("each", ["start", "items"], ["pair", "value"], flatten_output=flatten),
        node("pair", "pick", "each", parts=[["each", "item"], ["each", "index"]]),
        end(("out", ["each", "output"])),
    ]
    edges = [*chain("start", "each", "end"), edge("eachstart", "pair")]
    ran = await run_graph(nodes, edges, {"items": [1, 2]})
    assert ran.outcome.outputs == {"out": expected}


async def test_flatten_is_the_default_and_skips_none() -> None:
    nodes = [
        START,
        *iteration(
            "each", ["start", "items"], ["pair", "value"], error_handle_mode="continue-on-error"
        ),
        node("pair", "pick", "each", parts=[["each", "item"]]),
        node("boom", "work", "each", source=["each", "item"], fail_on=2),
        end(("out", ["each", "output"])),
    ]
    edges = [*chain("start", "each", "end"), *chain("eachstart", "pair", "boom")]
    ran = await run_graph(nodes, edges, {"items": [1, 2, 3]})
    assert ran.outcome.outputs == {"out": [1, 3]}  # [[1], None, [3]] flattened


@pytest.mark.parametrize("empty", [[], None])
async def test_empty_input_outputs_an_empty_list_at_once(empty: Any) -> None:
    ran = await run_graph(*_doubling(empty))
    assert ran.outcome.status == "succeeded"
    assert ran.outcome.outputs == {"out": []}
    assert ran.runs("work") == []
    assert not [n for n in ran.names() if n.startswith("iteration_")]


@pytest.mark.parametrize(("value", "shown"), [("abc", "abc"), (7, "7"), ({"a": 1}, "{'a': 1}")])
async def test_a_value_that_is_not_an_array_fails(value: Any, shown: str) -> None:
    ran = await run_graph(*_doubling(value))
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == f"Invalid iterator value: {shown}, please provide a list."
    assert ran.runs("work") == []


async def test_a_missing_iterator_variable_fails() -> None:
    nodes, edges, _ = _doubling([1])
    ran = await run_graph(nodes, edges, {})
    assert ran.outcome.error == "iterator variable ['start', 'items'] not found"


async def test_a_round_never_sees_the_outputs_of_the_one_before() -> None:
    # `pick` produces nothing for item 2: its output reads as None, not round 1's value.
    nodes = [
        START,
        *iteration("each", ["start", "items"], ["pick", "value"], flatten_output=False),
        node("pick", "pick", "each", parts=[["each", "item"]], skip_when=2),
        end(("out", ["each", "output"])),
    ]
    edges = [*chain("start", "each", "end"), edge("eachstart", "pick")]
    ran = await run_graph(nodes, edges, {"items": [1, 2, 3]})
    assert ran.outcome.outputs == {"out": [[1], None, [3]]}


@pytest.mark.parametrize("parallel", [False, True])
async def test_nested_iterations_read_both_items_and_indexes(parallel: bool) -> None:
    nodes = [
        START,
        *iteration(
            "outer",
            ["start", "rows"],
            ["inner", "output"],
            flatten_output=False,
            is_parallel=parallel,
        ),
        *iteration(
            "inner",
            ["outer", "item"],
            ["cell", "value"],
            parent="outer",
            flatten_output=False,
            is_parallel=parallel,
        ),
        node(
            "cell",
            "pick",
            "inner",
            parts=[["outer", "index"], ["inner", "index"], ["inner", "item"]],
        ),
        end(("out", ["outer", "output"])),
    ]
    edges = [
        *chain("start", "outer", "end"),
        edge("outerstart", "inner"),
        edge("innerstart", "cell"),
    ]
    ran = await run_graph(nodes, edges, {"rows": [["a", "b"], ["c"]]})
    assert ran.outcome.status == "succeeded"
    assert ran.outcome.outputs == {"out": [[[0, 0, "a"], [0, 1, "b"]], [[1, 0, "c"]]]}
    cells = ran.of("node_finished", "cell")
    assert {c["iteration_id"] for c in cells} == {"inner"}
    inner = ran.of("node_finished", "inner")
    assert [(c["iteration_id"], c["execution_metadata"]["iteration_index"]) for c in inner] == [
        ("outer", 0),
        ("outer", 1),
    ]
    assert [e["metadata"]["iterator_length"] for e in ran.of("iteration_started", "inner")] == [
        2,
        1,
    ]


async def test_legacy_iteration_starts_at_its_first_child() -> None:
    # DSL 0.1.0: no iteration-start node; start_node_id names the first real child.
    nodes = [
        START,
        node(
            "each",
            "iteration",
            iterator_selector=["start", "items"],
            output_selector=["second", "value"],
            start_node_id="first",
        ),
        node("first", "work", "each", source=["each", "item"], isIterationStart=True),
        node("second", "work", "each", source=["first", "value"], times=10),
        end(("out", ["each", "output"])),
    ]
    edges = [*chain("start", "each", "end"), edge("first", "second")]
    ran = await run_graph(nodes, edges, {"items": [1, 2]})
    assert ran.outcome.outputs == {"out": [20, 40]}
    assert len(ran.runs("first")) == 2


async def test_an_answer_inside_says_its_text_each_round() -> None:
    # Dify forwards an inner answer's whole text as it succeeds, ahead of the top level's
    # answers (its fixture `iteration_contains_answer`); an LLM inside does not stream.
    nodes = [
        START,
        *iteration("each", ["start", "items"], ["say", "text"]),
        node("say", "text", "each", text="inside words"),
        node("inner_answer", "answer", "each", answer="inner {{#say.text#}}"),
        node("top", "answer", answer="got {{#each.output#}}"),
    ]
    edges = [
        *chain("start", "each", "top"),
        *chain("eachstart", "say", "inner_answer"),
    ]
    ran = await run_graph(nodes, edges, {"items": [1, 2]}, chat=True)
    assert ran.outcome.status == "succeeded"
    messages = [e["answer"] for e in ran.events if e["event"] == "message"]
    inner, top = "inner inside words", "got - inside words\n- inside words"
    assert messages[:2] == [inner, inner] and "".join(messages[2:]) == top
    assert ran.outcome.answer == inner + inner + top


@pytest.mark.parametrize("parallel", [False, True])
async def test_a_stop_request_ends_a_long_iteration_promptly(parallel: bool) -> None:
    stop = asyncio.Event()
    run = RunContext.lasting(FakeGateway(), lambda _: None, stop, 60)
    nodes, edges, inputs = _doubling(
        list(range(50)), work={"sleep": 1}, is_parallel=parallel, parallel_nums=2
    )

    async def stop_soon() -> None:
        await asyncio.sleep(0.3)
        stop.set()

    stopper = asyncio.create_task(stop_soon())
    started = time.perf_counter()
    ran = await run_graph(nodes, edges, inputs, run=run)
    await stopper
    assert time.perf_counter() - started < 0.8  # mid-round: the round takes 1 s
    assert ran.outcome.status == "stopped"
    assert len(Probe.started) == (2 if parallel else 1)
    assert Probe.running == 0  # every round was cancelled, none left behind
    assert not ran.of("iteration_completed")


async def test_the_run_deadline_interrupts_a_round() -> None:
    nodes, edges, inputs = _doubling([1, 2, 3], work={"sleep": 5})
    started = time.perf_counter()
    ran = await run_graph(nodes, edges, inputs, seconds=0.2)
    assert time.perf_counter() - started < 1
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "Maximum execution time exceeded: 0.2s"
    assert Probe.running == 0


@pytest.mark.parametrize("parallel", [False, True])
async def test_the_deadline_is_not_an_error_a_mode_can_tolerate(parallel: bool) -> None:
    nodes, edges, inputs = _doubling(
        [1, 2, 3, 4, 5],
        work={"sleep": 5},
        error_handle_mode="continue-on-error",
        is_parallel=parallel,
        parallel_nums=2,
    )
    started = time.perf_counter()
    ran = await run_graph(nodes, edges, inputs, seconds=0.2)
    assert time.perf_counter() - started < 1
    assert ran.outcome.status == "failed"
    assert ran.outcome.error == "Maximum execution time exceeded: 0.2s"
    assert len(Probe.started) == (2 if parallel else 1)
    assert Probe.running == 0


async def test_an_answer_can_show_a_streaming_node_inside_once_the_iteration_ends() -> None:
    nodes = [
        START,
        *iteration("each", ["start", "items"], ["say", "text"]),
        node("say", "text", "each", text="last words"),
        node("top", "answer", answer="said {{#say.text#}}."),
        node("later", "work", source=["start", "items"], sleep=0.05),
    ]
    edges = [*chain("start", "each", "top", "later"), edge("eachstart", "say")]
    ran = await run_graph(nodes, edges, {"items": [1, 2]}, chat=True)
    assert ran.outcome.answer == "said last words."
    names = [(e["event"], e.get("data", {}).get("node_id")) for e in ran.events]
    first_message = next(i for i, e in enumerate(ran.events) if e["event"] == "message")
    # The value goes out when the iteration has finished, not only when the run ends.
    assert first_message < names.index(("node_started", "later"))
