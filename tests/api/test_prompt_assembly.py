"""Classic prompt assembly as the upstream receives it: simple and advanced modes,
completion-type models, memory and history pruning against the context window."""

import importlib.util
import json
from pathlib import Path
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream

OPENAI: dict[str, Any] = {"provider": "openai", "model": "gpt-4o-mini"}
SYSTEM = "You are a helpful assistant.\n"
DEFAULT_ANSWER = "Hello word word word word"
CHAT_STOPS = ["\nHuman:", "</histories>"]


def _text_field(variable: str, required: bool = True) -> dict[str, Any]:
    return {"text-input": {"label": variable, "variable": variable, "required": required}}


def _context_size(model: str) -> int:
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    table = json.loads((folder / "model_prices_and_context_window_backup.json").read_text())
    return int(table[model]["max_input_tokens"])


async def _chat(
    client: httpx.AsyncClient,
    key: str,
    query: str,
    user: str,
    conversation_id: str | None = None,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "auto_generate_name": False,
        "inputs": inputs or {},
        "query": query,
        "user": user,
    }
    if conversation_id:
        body["conversation_id"] = conversation_id
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_simple_mode_chat_model_system_then_query(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    pre_prompt = "Hi {{name}}. Keep {{unknown_var}} as is.<|im_end|> Topic: {{topic}}"
    form = [_text_field("name"), _text_field("topic")]
    _, key = await make_app(chat_dsl(pre_prompt=pre_prompt, form=form, **OPENAI))
    inputs = {"name": "Ann {{topic}}", "topic": "x<|secret|>y", "unknown_var": "dropped"}
    await _chat(client, key, "What now?", "simple-u", inputs=inputs)
    sent = upstream.requests[-1]
    assert sent["_path"] == "/v1/chat/completions"
    assert sent["messages"] == [
        {"role": "system", "content": "Hi Ann {topic}. Keep {unknown_var} as is. Topic: xy\n"},
        {"role": "user", "content": "What now?"},
    ]
    assert "stop" not in sent


async def test_simple_mode_without_pre_prompt_sends_only_the_query(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(pre_prompt="", **OPENAI))
    await _chat(client, key, "Just this", "nopre-u")
    assert upstream.requests[-1]["messages"] == [{"role": "user", "content": "Just this"}]


async def test_advanced_mode_chat_model_messages_in_order(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    prompt = [
        {"role": "system", "text": "{{persona}}"},
        {"role": "user", "text": "My name is {{name}}."},
        {"role": "assistant", "text": "Nice to meet you, {{name}}."},
        {"role": "system", "text": ""},
        {"role": "system", "text": "Answer in {{lang}}."},
    ]
    form = [_text_field("persona", required=False), _text_field("name"), _text_field("lang")]
    dsl = chat_dsl(
        form=form,
        prompt_type="advanced",
        chat_prompt_config={"prompt": prompt},
        **OPENAI,
    )
    _, key = await make_app(dsl)
    inputs = {"persona": "", "name": "Ann", "lang": "French"}
    first = await _chat(client, key, "Hello?", "adv-u", inputs=inputs)
    configured = [
        {"role": "user", "content": "My name is Ann."},
        {"role": "assistant", "content": "Nice to meet you, Ann."},
        {"role": "system", "content": "Answer in French."},
    ]
    assert upstream.requests[-1]["messages"] == [
        *configured,
        {"role": "user", "content": "Hello?"},
    ]
    await _chat(client, key, "And then?", "adv-u", first["conversation_id"], inputs)
    assert upstream.requests[-1]["messages"] == [
        *configured,
        {"role": "user", "content": "Hello?"},
        {"role": "assistant", "content": DEFAULT_ANSWER},
        {"role": "user", "content": "And then?"},
    ]


async def test_completion_type_model_single_prompt_with_chat_stops(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    dsl = chat_dsl(
        provider="openai",
        model="gpt-3.5-turbo-instruct",
        model_mode="completion",
        pre_prompt="You are terse about {{topic}}.",
        form=[_text_field("topic")],
    )
    _, key = await make_app(dsl)
    data = await _chat(client, key, "hello", "cm-u", inputs={"topic": "tea"})
    assert data["answer"] == DEFAULT_ANSWER
    sent = upstream.requests[-1]
    assert sent["_path"] == "/v1/completions"
    assert "messages" not in sent
    assert sent["prompt"] == "You are terse about tea.\n\n\nHuman: hello\n\nAssistant: "
    assert sent["stop"] == CHAT_STOPS
    assert sent["model"] == "gpt-3.5-turbo-instruct"


async def _completion_model_two_turns(
    client: httpx.AsyncClient, upstream: FakeUpstream, user: str
) -> str:
    dsl = chat_dsl(
        provider="openai",
        model="gpt-3.5-turbo-instruct",
        model_mode="completion",
        pre_prompt="You are terse.",
    )
    _, key = await make_app(dsl)
    first = await _chat(client, key, "hello", user)
    await _chat(client, key, "again", user, first["conversation_id"])
    sent = upstream.requests[-1]
    assert sent["_path"] == "/v1/completions"
    assert sent["stop"] == CHAT_STOPS
    prompt: str = sent["prompt"]
    return prompt


async def test_completion_type_model_second_turn_has_histories_block(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    prompt = await _completion_model_two_turns(client, upstream, "cmh-u")
    assert prompt.startswith("You are terse.\n")
    history = f"<histories>\nHuman: hello\nAssistant: {DEFAULT_ANSWER}\n</histories>\n\n"
    assert history in prompt
    assert prompt.endswith(history + "\n\nHuman: again\n\nAssistant: ")


async def test_memory_second_turn_carries_first_turn(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    _, key = await make_app(chat_dsl(**OPENAI))
    upstream.behaviour.chunks = ["First", " answer"]
    first = await _chat(client, key, "first question", "mem-u")
    upstream.behaviour.chunks = ["Second", " answer"]
    second = await _chat(client, key, "second question", "mem-u", first["conversation_id"])
    await _chat(client, key, "third question", "mem-u", second["conversation_id"])
    assert upstream.requests[1]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "second question"},
    ]
    assert upstream.requests[2]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "Second answer"},
        {"role": "user", "content": "third question"},
    ]
    # Another conversation of the same user starts without memory.
    await _chat(client, key, "fresh start", "mem-u")
    assert upstream.requests[3]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "fresh start"},
    ]


# The budget left for history is context − max_tokens − prompt (a couple of hundred tokens
# here): a 300-word answer can never fit it, one short turn always does, whatever the
# tokenizer, and the prompt without memory always fits (so Dify would not refuse the call).
HEADROOM = 200
LONG_ANSWER = [f" w{i}" for i in range(300)]


async def _long_then_short(
    client: httpx.AsyncClient, upstream: FakeUpstream, user: str, turns: int
) -> int:
    context = _context_size("gpt-4o-mini")
    _, key = await make_app(chat_dsl(params={"max_tokens": context - HEADROOM}, **OPENAI))
    upstream.behaviour.chunks = LONG_ANSWER
    conversation = (await _chat(client, key, "alpha", user))["conversation_id"]
    upstream.behaviour.chunks = ["Short", " one"]
    await _chat(client, key, "beta", user, conversation)
    if turns == 3:
        await _chat(client, key, "gamma", user, conversation)
    return context


async def test_history_pruning_keeps_at_least_one_message(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    await _long_then_short(client, upstream, "prune1-u", turns=2)
    long_answer = "".join(LONG_ANSWER).strip()
    assert upstream.requests[1]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "assistant", "content": long_answer},
        {"role": "user", "content": "beta"},
    ]


async def test_history_pruning_drops_oldest_turns_first(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    await _long_then_short(client, upstream, "prune2-u", turns=3)
    assert upstream.requests[2]["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "beta"},
        {"role": "assistant", "content": "Short one"},
        {"role": "user", "content": "gamma"},
    ]


async def test_max_tokens_lowered_when_prompt_and_max_tokens_exceed_context(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    context = await _long_then_short(client, upstream, "recalc-u", turns=2)
    configured = context - HEADROOM
    assert upstream.requests[0]["max_tokens"] == configured  # a short prompt fits as is
    # Second turn: ~300 history tokens + max_tokens > context, so Dify's
    # recalc_llm_max_tokens lowers max_tokens to max(context - prompt_tokens, 16).
    sent = upstream.requests[1]["max_tokens"]
    assert 16 <= sent <= context - 300, (sent, configured)
