"""question-classifier in-process: Dify's prompt (chat and completion), memory as history
text, how the reply is read (fenced JSON, reasoning, unknown ids), and what fails."""

from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.prompt import Turn
from tests.engine.fakes import Scripted
from tests.engine.nodes.model_support import MODEL, build, chat_pool, run_model_node

CLASSES = [
    {"id": "c1", "name": "Shipping"},
    {"id": "c2", "name": "Billing for {{#start.plan#}}"},
    {"id": "c3", "name": "Other", "label": "Fallback"},
]


def classifier(**data: Any) -> Any:
    return build(
        "question-classifier",
        {
            "title": "Sort",
            "type": "question-classifier",
            "model": dict(MODEL),
            "classes": CLASSES,
            "query_variable_selector": ["sys", "query"],
            "instruction": "Plan: {{#start.plan#}}",
            **data,
        },
    )


async def test_the_chosen_class_is_the_branch_and_its_name_is_rendered() -> None:
    reply = Scripted("charged", '{"keywords": ["x"], "category_id": "c2", "category_name": "B"}')
    run = await run_model_node(classifier(), chat_pool("charged twice", plan="pro"), [reply])
    result = run.result
    assert result.handle == "c2"
    assert {k: v for k, v in result.outputs.items() if k != "usage"} == {
        "class_name": "Billing for pro",
        "class_label": "CLASS 2",
        "class_id": "c2",
    }
    assert result.inputs["query"] == "charged twice" and result.usage is not None
    roles = [role for role, _ in run.messages()]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    last = run.messages()[-1][1]
    assert '"input_text": ["charged twice"]' in last
    # The prompt goes through Dify's template rendering too: class names show rendered.
    assert '{"category_id": "c2", "category_name": "Billing for pro"}' in last
    assert '"classification_instructions": ["Plan: pro"]' in last


@pytest.mark.parametrize(
    "reply",
    [
        '```json\n{"category_id": "c3", "category_name": "Other"}\n```',
        '<think>maybe c1</think>{"category_id": "c3", "category_name": "Other"}',
        '[{"category_id": "c3", "category_name": "Other"}]',
    ],
)
async def test_fenced_reasoned_and_listed_replies(reply: str) -> None:
    run = await run_model_node(classifier(), chat_pool("q", plan="p"), [Scripted("q", reply)])
    assert run.result.handle == "c3" and run.result.outputs["class_label"] == "Fallback"


@pytest.mark.parametrize(
    "reply",
    [
        '{"category_id": "c9", "category_name": "Nope"}',  # unknown id
        '{"category_id": "c2"}',  # no category_name
        '{"keywords": []}',
    ],
)
async def test_no_known_category_takes_the_first_class(reply: str) -> None:
    run = await run_model_node(classifier(), chat_pool("q", plan="p"), [Scripted("q", reply)])
    assert run.result.handle == "c1" and run.result.outputs["class_name"] == "Shipping"


@pytest.mark.parametrize(
    ("reply", "message", "error_type"),
    [
        ("billing, probably", "could not find json block in the output.", "ValueError"),
        ("{not json}", "got invalid json object. error:", "OutputParserError"),
        ('["a", "b"]', "got invalid return object.", "OutputParserError"),
    ],
)
async def test_a_reply_without_usable_json_fails(reply: str, message: str, error_type: str) -> None:
    with pytest.raises(NodeError) as failure:
        await run_model_node(classifier(), chat_pool("q", plan="p"), [Scripted("q", reply)])
    assert failure.value.message.startswith(message) and failure.value.error_type == error_type


async def test_memory_goes_into_the_system_prompt_as_history_text() -> None:
    memory = {"window": {"enabled": False, "size": 1}}  # Dify reads `size` even when disabled
    history = [Turn("first?", "one"), Turn("second?", "two")]
    run = await run_model_node(classifier(memory=memory), chat_pool("q", plan="p"), history=history)
    system = run.messages()[0][1]
    assert "<histories>\nHuman: second?\nAssistant: two\n</histories>" in system
    assert len(run.messages()) == 6  # no history messages, no extra query message


async def test_completion_model_prompt() -> None:
    model = dict(MODEL, mode="completion", name="gpt-3.5-turbo-instruct")
    reply = Scripted("Job", '{"category_id": "c3", "category_name": "Other"}')
    run = await run_model_node(classifier(model=model), chat_pool("q", plan="p"), [reply])
    assert run.result.handle == "c3"
    [(role, text)] = run.messages()
    assert role == "user" and text.startswith("\n\n### Job Description\n")
    assert text.endswith('"classification_instruction" : ["Plan: p"]}\n### Assistant Output\n')


async def test_a_missing_query_is_empty_and_classes_are_required() -> None:
    run = await run_model_node(
        classifier(query_variable_selector=["start", "nothing"]), chat_pool("", plan="p")
    )
    assert '"input_text": [""]' in run.messages()[-1][1]
    assert run.result.handle == "c1"  # the echo holds the prompt's JSON: no category in it
    with pytest.raises(NodeConfigError):
        classifier(classes=[])
