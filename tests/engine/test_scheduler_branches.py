"""The scheduler with real branch nodes: a join after an if-else runs once, skips spread
down the untaken branch, an answer after an if-else streams only the taken branch's text,
multi-case handles, and an if-else failing over to its fail-branch."""

from typing import Any

import pytest

from app.core.app_mode import AppMode
from tests.engine.nodes.support import graph, run_graph


def _start(*names: str) -> tuple[str, dict[str, Any]]:
    variables = [{"variable": name, "type": "text-input"} for name in names]
    return ("start", {"type": "start", "title": "Start", "variables": variables})


def _if(selector: list[str], operator: str, value: Any, **extra: Any) -> dict[str, Any]:
    condition = {"variable_selector": selector, "comparison_operator": operator, "value": value}
    case = {"case_id": "true", "logical_operator": "and", "conditions": [condition]}
    return {"type": "if-else", "cases": [case], **extra}


def _agg(*selectors: list[str]) -> dict[str, Any]:
    return {"type": "variable-aggregator", "output_type": "string", "variables": list(selectors)}


def _end(**outputs: list[str]) -> dict[str, Any]:
    return {
        "type": "end",
        "outputs": [{"variable": k, "value_selector": v} for k, v in outputs.items()],
    }


def _join_graph() -> dict[str, Any]:
    """if-else; the true branch a chain of three, the false branch one node; both join."""
    return graph(
        [
            _start("word"),
            ("check", _if(["start", "word"], "is", "big")),
            ("c1", _agg(["start", "word"])),
            ("c2", _agg(["c1", "output"])),
            ("c3", _agg(["c2", "output"])),
            ("small", _agg(["start", "word"])),
            ("join", _agg(["c3", "output"], ["small", "output"])),
            ("end", _end(result=["join", "output"])),
        ],
        [
            ("start", "source", "check"),
            ("check", "true", "c1"),
            ("c1", "source", "c2"),
            ("c2", "source", "c3"),
            ("c3", "source", "join"),
            ("check", "false", "small"),
            ("small", "source", "join"),
            ("join", "source", "end"),
        ],
    )


@pytest.mark.parametrize(
    ("word", "ran", "skipped"),
    [("big", {"c1", "c2", "c3"}, {"small"}), ("tiny", {"small"}, {"c1", "c2", "c3"})],
)
async def test_a_join_after_an_if_else_runs_once(
    word: str, ran: set[str], skipped: set[str]
) -> None:
    run = await run_graph(_join_graph(), inputs={"word": word})
    assert run.outcome.status == "succeeded"
    assert run.outcome.outputs == {"result": word}
    assert run.ran() == {"start", "check", "join", "end"} | ran
    assert not run.ran() & skipped
    assert run.runs("join") == 1 and run.runs("end") == 1
    assert run.execution("join").predecessor_node_id in {"c3", "small"}


async def test_both_handles_to_one_node_run_it_once() -> None:
    workflow = graph(
        [
            _start("word"),
            ("check", _if(["start", "word"], "is", "x")),
            ("end", _end(w=["start", "word"])),
        ],
        [("start", "source", "check"), ("check", "true", "end"), ("check", "false", "end")],
    )
    for word in ("x", "y"):
        run = await run_graph(workflow, inputs={"word": word})
        assert run.runs("end") == 1
        assert run.outcome.outputs == {"w": word}


def _chat_graph() -> dict[str, Any]:
    return graph(
        [
            _start(),
            ("hello", {"type": "answer", "answer": "Hi "}),
            ("route", _if(["sys", "query"], "contains", "tea")),
            ("yes", {"type": "answer", "answer": "tea: {{#sys.query#}}"}),
            ("yes_more", {"type": "answer", "answer": " (more tea)"}),
            ("no", {"type": "answer", "answer": "no tea"}),
            ("bye", {"type": "answer", "answer": "!"}),
        ],
        [
            ("start", "source", "hello"),
            ("hello", "source", "route"),
            ("route", "true", "yes"),
            ("yes", "source", "yes_more"),
            ("yes_more", "source", "bye"),
            ("route", "false", "no"),
            ("no", "source", "bye"),
        ],
    )


@pytest.mark.parametrize("join_first", [False, True], ids=["graph_order", "join_listed_first"])
async def test_an_answer_after_an_if_else_streams_only_the_taken_branch(join_first: bool) -> None:
    workflow = _chat_graph()
    if join_first:  # the DSL's node order must not change the stream's order
        nodes = workflow["graph"]["nodes"]
        nodes.insert(0, nodes.pop())
    run = await run_graph(workflow, AppMode.ADVANCED_CHAT, query="green tea")
    assert run.outcome.answer == "Hi tea: green tea (more tea)!"
    assert run.streamed() == [
        ("Hi ", ["hello", "answer"]),
        ("tea: ", ["yes", "answer"]),
        ("green tea", ["sys", "query"]),
        (" (more tea)", ["yes_more", "answer"]),
        ("!", ["bye", "answer"]),
    ]
    other = await run_graph(workflow, AppMode.ADVANCED_CHAT, query="coffee")
    assert other.outcome.answer == "Hi no tea!"
    assert "yes" not in other.ran() and "yes_more" not in other.ran()
    assert all(selector[0] not in ("yes", "yes_more") for _, selector in other.streamed())


def _multicase() -> dict[str, Any]:
    def condition(operator: str, value: str) -> dict[str, Any]:
        return {
            "variable_selector": ["start", "level"],
            "comparison_operator": operator,
            "value": value,
        }

    cases = [
        {"case_id": "true", "logical_operator": "and", "conditions": [condition("is", "high")]},
        {
            "case_id": "7f1c-mid",
            "logical_operator": "or",
            "conditions": [condition("is", "mid"), condition("is", "medium")],
        },
        {
            "case_id": "9a2d-low",
            "logical_operator": "and",
            "conditions": [condition("start with", "lo")],
        },
    ]
    return graph(
        [
            _start("level"),
            ("route", {"type": "if-else", "cases": cases}),
            ("end_high", _end(route=["route", "selected_case_id"])),
            ("end_mid", _end(route=["route", "selected_case_id"])),
            ("end_low", _end(route=["route", "selected_case_id"])),
            ("end_else", _end(route=["route", "selected_case_id"])),
        ],
        [
            ("start", "source", "route"),
            ("route", "true", "end_high"),
            ("route", "7f1c-mid", "end_mid"),
            ("route", "9a2d-low", "end_low"),
            ("route", "false", "end_else"),
        ],
    )


@pytest.mark.parametrize(
    ("level", "handle", "end"),
    [
        ("high", "true", "end_high"),
        ("medium", "7f1c-mid", "end_mid"),
        ("low", "9a2d-low", "end_low"),
        ("none", "false", "end_else"),
    ],
)
async def test_multi_case_handles(level: str, handle: str, end: str) -> None:
    run = await run_graph(_multicase(), inputs={"level": level})
    assert run.execution("route").handle == handle
    assert run.outcome.outputs == {"route": handle}
    assert run.ran() == {"start", "route", end}


async def test_an_if_else_that_fails_can_take_its_fail_branch() -> None:
    workflow = graph(
        [
            _start(),
            ("check", _if(["start", "gone"], "is", "x", error_strategy="fail-branch")),
            ("ok", _end(branch=["check", "selected_case_id"])),
            ("oops", _end(error=["check", "error_message"])),
        ],
        [
            ("start", "source", "check"),
            ("check", "true", "ok"),
            ("check", "false", "ok"),
            ("check", "fail-branch", "oops"),
        ],
    )
    run = await run_graph(workflow)
    assert run.outcome.status == "partial-succeeded"
    assert run.outcome.outputs == {"error": "Variable ['start', 'gone'] not found"}
    assert run.execution("check").handle == "fail-branch"
    assert "ok" not in run.ran()


async def test_an_if_else_that_fails_fails_the_run() -> None:
    workflow = graph(
        [_start(), ("check", _if(["start", "gone"], "is", "x")), ("end", _end())],
        [("start", "source", "check"), ("check", "true", "end"), ("check", "false", "end")],
    )
    run = await run_graph(workflow)
    assert run.outcome.status == "failed"
    assert run.outcome.error == "Variable ['start', 'gone'] not found"
    assert "end" not in run.ran()
