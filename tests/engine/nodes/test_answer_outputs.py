"""The run's `answer` output (`workflow_finished.data.outputs.answer` of a chatflow) holds
every answer node's text in the order they finished, as Dify's `merge_response_outputs`
builds it; it held only the last answer's."""

from app.core.app_mode import AppMode
from tests.engine.nodes.support import graph, run_graph


async def test_every_answer_goes_into_the_run_output() -> None:
    workflow = graph(
        [
            ("start", {"type": "start", "title": "Start", "variables": []}),
            ("hello", {"type": "answer", "title": "Hello", "answer": "Hello, "}),
            ("echo", {"type": "answer", "title": "Echo", "answer": "you said {{#sys.query#}}"}),
        ],
        [("start", "source", "hello"), ("hello", "source", "echo")],
    )
    ran = await run_graph(workflow, AppMode.ADVANCED_CHAT, query="hi")
    assert ran.outcome.status == "succeeded", ran.outcome.error
    assert ran.outcome.outputs == {"answer": "Hello, you said hi"}
    assert ran.outcome.answer == "Hello, you said hi"


async def test_an_answer_on_a_branch_not_taken_adds_nothing() -> None:
    contains = {
        "comparison_operator": "contains",
        "id": "c",
        "value": "hello",
        "varType": "string",
        "variable_selector": ["sys", "query"],
    }
    workflow = graph(
        [
            ("start", {"type": "start", "title": "Start", "variables": []}),
            (
                "route",
                {
                    "type": "if-else",
                    "title": "Route",
                    "cases": [
                        {"case_id": "true", "conditions": [contains], "logical_operator": "and"}
                    ],
                },
            ),
            ("greet", {"type": "answer", "title": "Greet", "answer": "greeted "}),
            ("plain", {"type": "answer", "title": "Plain", "answer": "plain "}),
            ("last", {"type": "answer", "title": "Last", "answer": "bye"}),
        ],
        [
            ("start", "source", "route"),
            ("route", "true", "greet"),
            ("route", "false", "plain"),
            ("greet", "source", "last"),
            ("plain", "source", "last"),
        ],
    )
    ran = await run_graph(workflow, AppMode.ADVANCED_CHAT, query="hello there")
    assert ran.outcome.status == "succeeded", ran.outcome.error
    assert ran.outcome.outputs == {"answer": "greeted bye"}
