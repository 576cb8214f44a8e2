"""parameter-extractor in-process: the tool it offers and the worked examples, the prompt
mode's JSON, how answers are checked and normalised (never a failure), completion models,
memory, and a failed model call."""

import json
from typing import Any

import pytest

from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.parameter_extractor.result import NO_RESULT
from app.engine.prompt import Turn
from app.gateway.types import UpstreamError
from tests.engine.fakes import FakeGateway, Scripted
from tests.engine.nodes.model_support import MODEL, build, chat_pool, run_model_node, workflow_pool

PARAMETERS = [
    {"name": "name", "type": "string", "description": "Who", "required": True},
    {"name": "age", "type": "number", "description": "Years", "required": False},
    {"name": "tags", "type": "array[string]", "description": "Likes", "required": False},
    {"name": "plan", "type": "select", "options": ["free", "pro"], "description": "Plan",
     "required": False},
    {"name": "vip", "type": "bool", "description": "VIP", "required": False},
]  # fmt: skip


def extractor(mode: str = "function_call", **data: Any) -> Any:
    return build(
        "parameter-extractor",
        {
            "title": "Extract",
            "type": "parameter-extractor",
            "model": dict(MODEL),
            "query": ["start", "text"],
            "parameters": PARAMETERS,
            "instruction": "From {{#start.source#}}",
            "reasoning_mode": mode,
            **data,
        },
    )


def call(**arguments: Any) -> Scripted:
    return Scripted("From", tool_call={"name": "extract_parameters", "arguments": arguments})


def values(outputs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in outputs.items() if k != "__usage"}


async def test_function_call_mode_offers_the_tool_after_worked_examples() -> None:
    answer = call(name="Mia", age=29, tags=["chess"], plan="pro", vip=True)
    run = await run_model_node(extractor(), workflow_pool(text="Mia...", source="chat"), [answer])
    assert values(run.result.outputs) == {
        "__is_success": 1,
        "__reason": None,
        "name": "Mia",
        "age": 29,
        "tags": ["chess"],
        "plan": "pro",
        "vip": True,
    }
    [tool] = run.request.tools
    function = tool["function"]
    assert function["name"] == "extract_parameters"
    assert function["parameters"]["required"] == ["name"]
    assert function["parameters"]["properties"]["plan"] == {
        "description": "Plan",
        "type": "string",
        "enum": ["free", "pro"],
    }
    assert function["parameters"]["properties"]["vip"]["type"] == "boolean"
    roles = [m["role"] for m in run.request.messages]
    assert roles == ["system"] + ["user", "assistant", "tool", "assistant"] * 2 + ["user"]
    example_call = run.request.messages[2]["tool_calls"][0]
    assert run.request.messages[3]["tool_call_id"] == example_call["id"]
    assert json.loads(example_call["function"]["arguments"]) == {"location": "San Francisco"}
    assert "<instruction>\nFrom chat\n</instruction>" in run.request.messages[0]["content"]
    assert "<context>\nMia...\n</context>" in run.request.messages[-1]["content"]
    assert run.result.process_data["tool_call"]["function"]["name"] == "extract_parameters"


@pytest.mark.parametrize(
    ("arguments", "reason", "normalised"),
    [
        ({"name": "A"}, "Invalid number of parameters", {"age": 0, "tags": [], "vip": False}),
        (
            {"age": 1, "tags": [], "plan": "free", "vip": False, "other": 1},
            "Parameter name is required",
            {"name": "", "age": 1},
        ),
        (
            {"name": "A", "age": "7", "tags": ["x", 3], "plan": "free", "vip": 1},
            "Invalid value for parameter age, expected segment type: number",
            {"age": 7, "tags": ["x"], "vip": True},
        ),
        (
            {"name": "A", "age": 2.5, "tags": [], "plan": "gold", "vip": False},
            "Invalid `select` value for parameter plan",
            {"plan": "gold", "age": 2.5},
        ),
    ],
)
async def test_answers_that_do_not_fit_are_reported_not_failed(
    arguments: dict[str, Any], reason: str, normalised: dict[str, Any]
) -> None:
    run = await run_model_node(
        extractor(), workflow_pool(text="t", source="s"), [call(**arguments)]
    )
    outputs = run.result.outputs
    assert outputs["__is_success"] == 0 and outputs["__reason"].startswith(reason)
    assert {k: outputs[k] for k in normalised} == normalised


async def test_a_text_answer_in_function_call_mode_is_read_as_json() -> None:
    reply = Scripted(
        "From", 'Sure: {"name": "B", "age": 3, "tags": [], "plan": "free", "vip": false}'
    )
    run = await run_model_node(extractor(), workflow_pool(text="t", source="s"), [reply])
    assert run.result.outputs["__is_success"] == 1 and run.result.outputs["name"] == "B"
    nothing = Scripted("From", "no idea")
    run = await run_model_node(extractor(), workflow_pool(text="t", source="s"), [nothing])
    # Dify's empty result leaves arrays out, so the count check speaks last.
    assert run.result.outputs["__reason"] == "Invalid number of parameters"


async def test_prompt_mode_asks_for_json_after_worked_examples() -> None:
    reply = Scripted(
        "From", '```json\n{"name": "C", "age": 4, "tags": ["a"], "plan": "pro", "vip": true}\n```'
    )
    run = await run_model_node(extractor("prompt"), workflow_pool(text="t", source="s"), [reply])
    assert run.result.outputs["__is_success"] == 1 and run.result.outputs["tags"] == ["a"]
    assert run.request.tools == []
    roles = [m["role"] for m in run.request.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert run.request.messages[2]["content"] == '{"location": "San Francisco"}'
    last = run.request.messages[-1]["content"]
    assert last.startswith("### Structure\n") and last.endswith("<text>\nt\n</text>")


async def test_prompt_mode_without_json_uses_the_empty_result() -> None:
    params = [p for p in PARAMETERS if p["type"] in ("string", "number", "bool")]
    node = extractor("prompt", parameters=params)
    run = await run_model_node(node, workflow_pool(text="t", source="s"), [Scripted("From", "?")])
    assert values(run.result.outputs) == {
        "__is_success": 0,
        "__reason": NO_RESULT,
        "name": "",
        "age": 0,
        "vip": False,
    }
    # The empty result is checked too: "" is no option of a select parameter.
    with_select = [p for p in PARAMETERS if p["type"] != "array[string]"]
    node = extractor("prompt", parameters=with_select)
    run = await run_model_node(node, workflow_pool(text="t", source="s"), [Scripted("From", "?")])
    assert run.result.outputs["__reason"] == "Invalid `select` value for parameter plan"


async def test_a_completion_model_gets_the_json_prompt() -> None:
    model = dict(MODEL, mode="completion", name="gpt-3.5-turbo-instruct")
    run = await run_model_node(extractor(model=model), workflow_pool(text="hello", source="s"))
    [message] = run.request.messages
    text = message["content"]
    assert text.startswith("\n### Instructions:\n") and text.endswith("```JSON")
    assert '"required": ["name"]}\n</information to be extracted>' in text
    assert "output structure.\n\n  'properties1'" in text  # Dify's odd braces removed
    assert run.request.tools == []


async def test_memory_is_history_text_in_the_system_prompt() -> None:
    memory = {"window": {"enabled": True, "size": 1}}
    run = await run_model_node(
        extractor(memory=memory),
        chat_pool("", text="t", source="s"),
        [call(name="A", age=1, tags=[], plan="pro", vip=False)],
        history=[Turn("old?", "old"), Turn("new?", "new")],
    )
    assert (
        "<histories>\nHuman: new?\nAssistant: new\n</histories>"
        in run.request.messages[0]["content"]
    )


async def test_a_failed_model_call_fails_the_node_with_dify_outputs() -> None:
    gateway = FakeGateway(fail_with=UpstreamError("[openai] Error code: 500 - down"))
    with pytest.raises(NodeError) as failure:
        await run_model_node(extractor(), workflow_pool(text="t", source="s"), gateway=gateway)
    assert failure.value.outputs == {
        "__is_success": 0,
        "__reason": "Failed to invoke model",
        "__error": "[openai] Error code: 500 - down",
    }


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ({"name": "__reason", "type": "string"}, "reserved"),
        ({"name": "x", "type": "file"}, "type file is not allowd"),
        ({"type": "string"}, "Parameter name is required"),
    ],
)
def test_parameters_are_checked_when_built(parameter: dict[str, Any], message: str) -> None:
    with pytest.raises(NodeConfigError, match=message):
        extractor(parameters=[{"description": "", "required": False, **parameter}])
