"""Tool calls, finish reasons and response formats through the model gateway, in-process:
the offline model's schema-shaped answers, the direct OpenAI-compatible path and the
litellm path against the local fake upstream (what is sent, what comes back)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft7Validator

from app.engine.nodes.question_classifier.parse import reply_object
from app.gateway import litellm_backend, offline, openai_compat
from app.gateway.offline_json import sample
from app.gateway.providers import ProviderSpec, ResolvedProvider
from app.gateway.types import FinishReason, ModelRequest, StreamItem, ToolCall, UsageCount
from tests.support.fake_upstream import FakeUpstream

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 18},
        "plan": {"type": "string", "enum": ["free", "pro"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "vip": {"type": ["boolean", "null"]},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "choice": {"anyOf": [{"type": "number"}, {"type": "string"}]},
    },
    "required": ["name", "age"],
}
TOOLS = [
    {"type": "function", "function": {"name": "first", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "extract", "parameters": SCHEMA}},
]


async def _items(stream: Any) -> list[StreamItem]:
    return [item async for item in stream]


def test_schema_shaped_samples_are_valid() -> None:
    value = sample(SCHEMA)
    Draft7Validator(SCHEMA).validate(value)
    assert value["plan"] == "free" and value["age"] == 18 and value["tags"] == ["echo"]
    assert sample({"const": 3}) == 3 and sample({"type": "string", "default": "d"}) == "d"
    assert sample("not a schema") == {}


async def test_offline_model_calls_the_chosen_tool_with_schema_shaped_arguments() -> None:
    request = ModelRequest("kiln", "echo", [{"role": "user", "content": "hi"}], tools=TOOLS)
    items = await _items(offline.stream(request, 0))
    [call] = [i for i in items if isinstance(i, ToolCall)]
    assert call.name == "first" and json.loads(call.arguments) == {}
    request.tool_choice = {"type": "function", "function": {"name": "extract"}}
    items = await _items(offline.stream(request, 0))
    [call] = [i for i in items if isinstance(i, ToolCall)]
    Draft7Validator(SCHEMA).validate(json.loads(call.arguments))
    assert FinishReason("tool_calls") in items and not any(isinstance(i, str) for i in items)
    assert isinstance(items[-1], UsageCount)


async def test_offline_model_answers_json_when_asked() -> None:
    request = ModelRequest(
        "kiln",
        "echo",
        [{"role": "user", "content": "hi"}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA}},
    )
    items = await _items(offline.stream(request, 0))
    text = "".join(i for i in items if isinstance(i, str))
    Draft7Validator(SCHEMA).validate(json.loads(text))
    assert FinishReason("stop") in items
    request.response_format = {"type": "json_object"}
    items = await _items(offline.stream(request, 0))
    assert "".join(i for i in items if isinstance(i, str)) == "{}"


def test_offline_echo_of_json_with_raw_line_breaks_reads_back() -> None:
    """A classifier's prompt wraps a multi-line query in JSON without escaping it; the echo
    must still be JSON the classifier can read (then it takes the first class)."""
    # "\n" in this literal is a raw line break inside the JSON string: invalid JSON.
    sent = '{"input_text": ["first line\nsecond line"], "categories": [{"category_id": "a"}]}'
    reply = offline.reply_for([{"role": "user", "content": sent}])
    assert reply_object(reply)["input_text"] == ["first line\nsecond line"]
    plain = '{"input_text": ["one line"]}'  # valid JSON is echoed as it came
    assert offline.reply_for([{"role": "user", "content": plain}]).endswith(plain)


async def test_offline_model_reports_length_when_cut_by_max_tokens() -> None:
    request = ModelRequest("kiln", "echo", [{"role": "user", "content": "a b c d"}])
    request.params["max_tokens"] = 2
    items = await _items(offline.stream(request, 0))
    assert FinishReason("length") in items


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def fresh(upstream: FakeUpstream) -> FakeUpstream:
    upstream.reset()
    return upstream


def _provider(upstream: FakeUpstream, direct: bool) -> ResolvedProvider:
    spec = ProviderSpec("openai", openai_compatible=direct, needs_key=False)
    return ResolvedProvider("fake", spec, "sk-test", upstream.base_url)


CALLS = [
    {"name": "extract", "arguments": '{"name": "Mia", "age": 29}'},
    {"name": "second", "arguments": "{}"},
]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "litellm"])
async def test_tool_calls_are_put_together_from_the_stream(
    fresh: FakeUpstream, direct: bool
) -> None:
    fresh.behaviour.tool_calls = CALLS
    request = ModelRequest(
        "openai",
        "gpt-4o-mini",
        [{"role": "user", "content": "Mia, 29"}],
        tools=TOOLS,
        tool_choice="auto",
    )
    backend = openai_compat if direct else litellm_backend
    items = await _items(backend.stream(_provider(fresh, direct), request, 10.0))
    calls = [i for i in items if isinstance(i, ToolCall)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_0", "extract", '{"name": "Mia", "age": 29}'),
        ("call_1", "second", "{}"),
    ]
    assert FinishReason("tool_calls") in items
    assert [i for i in items if isinstance(i, UsageCount)] == [UsageCount(5, 2)]
    sent = fresh.requests[-1]
    assert sent["tools"] == TOOLS and sent["tool_choice"] == "auto"


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "litellm"])
async def test_response_format_is_sent_and_text_ends_with_its_reason(
    fresh: FakeUpstream, direct: bool
) -> None:
    fresh.behaviour.chunks = ['{"name":', ' "Ada"}']
    response_format = {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}
    request = ModelRequest(
        "openai", "gpt-4o-mini", [{"role": "user", "content": "x"}], response_format=response_format
    )
    backend = openai_compat if direct else litellm_backend
    items = await _items(backend.stream(_provider(fresh, direct), request, 10.0))
    assert "".join(i for i in items if isinstance(i, str)) == '{"name": "Ada"}'
    assert FinishReason("stop") in items
    assert fresh.requests[-1]["response_format"] == response_format
    assert "tools" not in fresh.requests[-1]


async def test_plain_requests_carry_no_tool_fields(fresh: FakeUpstream) -> None:
    request = ModelRequest("openai", "gpt-4o-mini", [{"role": "user", "content": "x"}])
    await _items(openai_compat.stream(_provider(fresh, True), request, 10.0))
    sent = fresh.requests[-1]
    assert not {"tools", "tool_choice", "response_format"} & set(sent)
