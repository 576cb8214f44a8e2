"""The llm node in-process: prompt assembly (templates, context, memory window and
completion-mode history, jinja2, vision and template files), stop sequences and params,
structured output, reasoning, usage, gateway errors; and in a graph: tokens relayed to an
answer while the model streams, a stop mid-stream closing the upstream stream."""

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.core.config import Settings
from app.engine.events import Event, MessageStreamContext
from app.engine.nodes.base import NodeError
from app.engine.prompt import Turn
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue
from app.engine.workflow.engine import compile_workflow, run_workflow
from app.engine.workflow.env import WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.gateway.types import ProviderNotInitialized, UpstreamAuthFailed, UpstreamError
from app.sandbox.pool import LocalSandbox
from tests.engine.fakes import FakeGateway, Scripted
from tests.engine.nodes.model_support import (
    MODEL,
    build,
    chat_pool,
    run_model_node,
    workflow_pool,
)
from tests.engine.nodes.support import graph, workflow_run

SYSTEM = {"role": "system", "text": "You are {{#start.persona#}}."}
USER = {"role": "user", "text": "Q: {{#sys.query#}}"}
IMAGE = FileValue("image", "remote_url", "cat.png", ".png", "image/png", 10, "https://x/cat.png")


def llm(prompt: Any = None, **data: Any) -> Any:
    return build(
        "llm",
        {
            "title": "LLM",
            "type": "llm",
            "model": dict(MODEL),
            "prompt_template": [SYSTEM, USER] if prompt is None else prompt,
            "context": {"enabled": False, "variable_selector": []},
            **data,
        },
    )


MEMORY = {
    "window": {"enabled": True, "size": 2},
    "query_prompt_template": "{{#sys.query#}}",
    "role_prefix": {"user": "", "assistant": ""},
}
HISTORY = [Turn("one?", "1"), Turn("two?", "2"), Turn("three?", "3")]


async def test_chat_prompt_then_the_memory_window_then_the_query() -> None:
    run = await run_model_node(
        llm(memory=MEMORY), chat_pool("four?", persona="terse"), history=HISTORY
    )
    assert run.messages() == [
        ("system", "You are terse."),
        ("user", "Q: four?"),
        ("user", "two?"),
        ("assistant", "2"),
        ("user", "three?"),
        ("assistant", "3"),
        ("user", "four?"),
    ]
    assert run.result.outputs["text"] == "echo:four?"
    assert run.result.inputs["#start.persona#"] == "terse"


async def test_without_a_window_every_turn_and_without_a_template_sys_query() -> None:
    memory = {"window": {"enabled": False, "size": 1}}
    run = await run_model_node(
        llm([USER], memory=memory), chat_pool("four?", persona="x"), history=HISTORY
    )
    assert [text for _, text in run.messages()] == [
        "Q: four?", "one?", "1", "two?", "2", "three?", "3", "four?"
    ]  # fmt: skip


async def test_an_earlier_query_keeps_its_files_after_its_text() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://x/old.png", "detail": "low"}}
    history = [Turn("see this", "nice", parts=[part])]
    run = await run_model_node(llm([USER], memory=MEMORY), chat_pool("and?"), history=history)
    assert run.request.messages[1] == {
        "role": "user",
        "content": [{"type": "text", "text": "see this"}, part],
    }


async def test_memory_is_cut_from_the_oldest_to_fit_the_token_budget() -> None:
    history = [Turn(f"question number {i} " * 4, f"answer {i} " * 4) for i in range(5)]
    model = dict(MODEL, completion_params={"max_tokens": 128_000 - 40})  # gpt-4o-mini: 128k
    run = await run_model_node(
        llm([USER], memory={"window": {"enabled": False}}, model=model),
        chat_pool("now?"),
        history=history,
    )
    texts = [text for _, text in run.messages()]
    assert texts[0] == "Q: now?" and texts[-1] == "now?"
    assert texts[-2] == history[-1].answer and history[0].query not in texts
    assert 2 <= len(texts) - 2 < 10


async def test_a_workflow_run_has_no_memory() -> None:
    memory = {"window": {"enabled": True, "size": 2}}  # and no sys.query to append
    run = await run_model_node(
        llm([SYSTEM], memory=memory), workflow_pool(persona="p"), history=HISTORY
    )
    assert run.messages() == [("system", "You are p.")]


COMPLETION_MODEL = dict(MODEL, mode="completion", name="gpt-3.5-turbo-instruct")
DIFY_COMPLETION = {
    "text": "<histories>\n{{#histories#}}\n</histories>\nHuman: {{#sys.query#}}\nAssistant:"
}


async def test_completion_model_history_text_replaces_histories() -> None:
    memory = {
        **MEMORY,
        "window": {"enabled": True, "size": 1},
        "role_prefix": {"user": "H", "assistant": "A"},
    }
    run = await run_model_node(
        llm(DIFY_COMPLETION, model=COMPLETION_MODEL, memory=memory),
        chat_pool("next?"),
        history=HISTORY,
    )
    # Dify replaces the bare `#histories#`: the outer braces of `{{#histories#}}` stay.
    assert run.messages() == [
        ("user", "<histories>\n{{H: three?\nA: 3}}\n</histories>\nHuman: next?\nAssistant:")
    ]
    assert run.result.outputs["text"].startswith("echo:<histories>")


async def test_completion_model_without_histories_puts_history_first() -> None:
    memory = {**MEMORY, "role_prefix": {"user": "Human", "assistant": "AI"}}
    run = await run_model_node(
        llm({"text": "Say: {{#sys.query#}}"}, model=COMPLETION_MODEL, memory=memory),
        chat_pool("hi"),
        history=HISTORY[-1:],
    )
    assert run.messages() == [("user", "Human: three?\nAI: 3\nSay: hi")]
    plain = await run_model_node(
        llm({"text": "Say: {{#start.x#}}"}, model=COMPLETION_MODEL), workflow_pool(x="yo")
    )
    assert plain.messages() == [("user", "\nSay: yo")]  # no memory: "" + "\n"


async def test_completion_memory_needs_role_prefixes() -> None:
    memory = {"window": {"enabled": False}, "query_prompt_template": ""}
    with pytest.raises(NodeError, match="Memory role prefix is required"):
        await run_model_node(
            llm({"text": "x"}, model=COMPLETION_MODEL, memory=memory), chat_pool("q")
        )


async def test_context_string_and_retrieval_results() -> None:
    prompt = [{"role": "system", "text": "Use: {{#context#}}"}, {"role": "user", "text": "go"}]
    context = {"enabled": True, "variable_selector": ["kr", "result"]}
    pool = workflow_pool()
    pool.add("kr", "result", "facts")
    run = await run_model_node(llm(prompt, context=context), pool)
    assert run.messages()[0] == ("system", "Use: facts")
    assert run.result.inputs["#context#"] == "facts"
    pool.add("kr", "result", [{"content": "a", "summary": "s"}, "b", {"content": "c"}])
    run = await run_model_node(llm(prompt, context=context), pool)
    assert run.messages()[0] == ("system", "Use: s\na\nb\nc")
    pool.add("kr", "result", [{"title": "no content"}])
    with pytest.raises(NodeError, match="Invalid context structure"):
        await run_model_node(llm(prompt, context=context), pool)


async def test_an_unresolved_selector_fails_the_node_and_none_renders_empty() -> None:
    prompt = [{"role": "user", "text": "Weather in {{#ghost.value#}}"}]
    with pytest.raises(NodeError) as failure:
        await run_model_node(llm(prompt), workflow_pool())
    assert failure.value.message == "Variable #ghost.value# not found"
    assert failure.value.error_type == "VariableNotFoundError"
    run = await run_model_node(
        llm([{"role": "user", "text": "[{{#start.x#}}]"}]), workflow_pool(x=None)
    )
    assert run.messages() == [("user", "[]")]


async def test_empty_messages_are_dropped_and_none_left_is_no_prompt() -> None:
    prompt = [{"role": "system", "text": "{{#start.empty#}}"}, {"role": "user", "text": "hi"}]
    run = await run_model_node(llm(prompt), workflow_pool(empty=""))
    assert run.messages() == [("user", "hi")]
    with pytest.raises(NodeError) as failure:
        await run_model_node(llm([{"role": "user", "text": ""}]), workflow_pool())
    assert failure.value.error_type == "NoPromptFoundError"
    assert failure.value.message.startswith("No prompt found in the LLM configuration.")


JINJA = [
    {
        "role": "system",
        "edition_type": "jinja2",
        "text": "",
        "jinja2_text": "{% for f in facts %}* {{ f | upper }}\n{% endfor %}n={{ facts | length }}",
    },
    {"role": "user", "text": "check"},
]
JINJA_CONFIG = {"jinja2_variables": [{"variable": "facts", "value_selector": ["start", "facts"]}]}


async def test_jinja2_prompt_needs_the_sandbox() -> None:
    with pytest.raises(NodeError, match="sandbox"):
        await run_model_node(llm(JINJA, prompt_config=JINJA_CONFIG), workflow_pool(facts=["a"]))
    with pytest.raises(NodeError, match="Variable facts not found"):
        await run_model_node(llm(JINJA, prompt_config=JINJA_CONFIG), workflow_pool())


async def test_jinja2_prompt_rendered_by_the_real_sandbox() -> None:
    settings = Settings(code_execution_endpoint="", code_sandbox_workers=1)
    sandbox = LocalSandbox(settings)
    try:
        run = await run_model_node(
            llm(JINJA, prompt_config=JINJA_CONFIG),
            workflow_pool(facts=["sky", "sea"]),
            services=WorkflowServices(sandbox=sandbox),
        )
    finally:
        await sandbox.aclose()
    assert run.messages() == [("system", "* SKY\n* SEA\nn=2"), ("user", "check")]
    assert run.result.inputs["facts"] == "sky\nsea"


async def _parts(files: Sequence[FileValue], detail: str) -> list[dict[str, Any]]:
    return [{"type": "image_url", "image_url": {"url": f.url, "detail": detail}} for f in files]


async def test_vision_files_go_before_the_last_user_text() -> None:
    vision = {"enabled": True, "configs": {"variable_selector": ["start", "pics"], "detail": "low"}}
    run = await run_model_node(
        llm([USER], vision=vision),
        chat_pool("look", pics=[IMAGE]),
        services=WorkflowServices(file_parts=_parts),
    )
    [message] = run.request.messages
    assert message["content"] == [
        {"type": "image_url", "image_url": {"url": "https://x/cat.png", "detail": "low"}},
        {"type": "text", "text": "Q: look"},
    ]
    assert run.result.inputs["#files#"][0]["filename"] == "cat.png"
    ends_with_assistant = [USER, {"role": "assistant", "text": "ok"}]
    run = await run_model_node(
        llm(ends_with_assistant, vision=vision),
        chat_pool("look", pics=IMAGE),
        services=WorkflowServices(file_parts=_parts),
    )
    assert [m["role"] for m in run.request.messages] == ["user", "assistant", "user"]
    assert run.request.messages[-1]["content"][0]["type"] == "image_url"
    with pytest.raises(NodeError, match="file service"):
        await run_model_node(llm([USER], vision=vision), chat_pool("x", pics=[IMAGE]))


async def test_a_file_in_a_template_follows_its_message() -> None:
    prompt = [{"role": "user", "text": "Describe {{#start.pic#}}"}]
    run = await run_model_node(
        llm(prompt), workflow_pool(pic=IMAGE), services=WorkflowServices(file_parts=_parts)
    )
    first, second = run.request.messages
    assert first == {"role": "user", "content": "Describe "}
    assert second["role"] == "user" and second["content"][0]["type"] == "image_url"


async def test_stop_sequences_and_params_from_variables() -> None:
    model = dict(
        MODEL,
        completion_params={"stop": ["\nUser:", "###"], "temperature": "{{#start.t#}}", "top_p": 1},
    )
    run = await run_model_node(llm([USER], model=model), chat_pool("q", t="0.7"))
    assert run.request.stop == ["\nUser:", "###"]
    assert run.request.params == {"temperature": 0.7, "top_p": 1}


SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "number"}},
    "required": ["name", "age"],
}


def structured(provider: str = MODEL["provider"]) -> Any:
    return llm(
        [{"role": "system", "text": "Extract."}, {"role": "user", "text": "{{#start.bio#}}"}],
        model=dict(MODEL, provider=provider),
        structured_output_enabled=True,
        structured_output={"schema": SCHEMA},
    )


async def test_structured_output_asks_for_json_and_reads_it_back() -> None:
    reply = Scripted("Ada", '{"name": "Ada", "age": 36}')
    run = await run_model_node(structured(), workflow_pool(bio="Ada, 36"), [reply])
    assert run.result.outputs["structured_output"] == {"name": "Ada", "age": 36}
    assert run.request.response_format == {
        "type": "json_schema",
        "json_schema": {"name": "llm_response", "schema": SCHEMA},
    }
    assert run.messages()[0] == ("system", "Extract.")
    # A provider without a json_schema mode is asked in the system prompt instead.
    run = await run_model_node(structured("deepseek"), workflow_pool(bio="Ada, 36"), [reply])
    assert run.request.response_format is None
    role, text = run.messages()[0]
    assert role == "system" and "Here is the JSON schema:" in text and text.endswith("\n\nExtract.")
    # Fenced or reasoning-prefixed JSON is read too; a list gives its first object.
    fenced = Scripted("Ada", '<think>x</think>```json\n[{"name": "Ada", "age": 1}]\n```')
    run = await run_model_node(structured(), workflow_pool(bio="Ada"), [fenced])
    assert run.result.outputs["structured_output"] == {"name": "Ada", "age": 1}


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I cannot find a person here.", "Failed to parse structured output (stage=result"),
        (
            '{"name": "Ada", "age": "old"}',
            "Structured output validation failed (stage=result, path=$.age)",
        ),
    ],
)
async def test_structured_output_that_does_not_fit_fails(reply: str, message: str) -> None:
    with pytest.raises(NodeError, match=re.escape(message)):
        await run_model_node(structured(), workflow_pool(bio="x"), [Scripted("x", reply)])


async def test_a_bad_schema_fails_before_the_model_is_called() -> None:
    node = llm([USER], structured_output_enabled=True, structured_output={"schema": "[1"})
    gateway = FakeGateway()
    with pytest.raises(NodeError, match="Invalid structured output schema"):
        await run_model_node(node, chat_pool("q"), gateway=gateway)
    assert gateway.calls == []


async def test_reasoning_separated_and_tagged() -> None:
    reply = Scripted("think", "<think>Let me see.</think>\n\nIt is 4.")
    run = await run_model_node(
        llm([USER], reasoning_format="separated"), chat_pool("think"), [reply]
    )
    assert run.result.outputs["text"] == "It is 4."
    assert run.result.outputs["reasoning_content"] == "Let me see."
    assert "".join(run.streamed) == "It is 4." and "think" not in "".join(run.streamed)
    run = await run_model_node(llm([USER]), chat_pool("think"), [reply])
    assert (
        run.result.outputs["text"] == reply.reply and run.result.outputs["reasoning_content"] == ""
    )
    assert "".join(run.streamed) == reply.reply


async def test_usage_finish_reason_and_process_data() -> None:
    run = await run_model_node(llm([USER]), chat_pool("hello"), [Scripted("hello", "a b c")])
    outputs, usage = run.result.outputs, run.result.usage
    assert outputs["finish_reason"] == "stop"
    assert (outputs["usage"]["prompt_tokens"], outputs["usage"]["completion_tokens"]) == (7, 3)
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (7, 3)
    assert usage.total_price == outputs["usage"]["total_price"] and usage.currency == "USD"
    assert float(usage.total_price) > 0  # gpt-4o-mini is priced from the cost map
    data = run.result.process_data
    assert data["model_provider"] == MODEL["provider"] and data["model_mode"] == "chat"
    assert data["prompts"] == [{"role": "user", "text": "Q: hello", "files": []}]


GATEWAY_FAILURES = [
    (
        UpstreamAuthFailed("[openai] Error code: 401 - bad key sk-1"),
        "Incorrect API key provided",
        "InvokeAuthorizationError",
    ),
    (
        ProviderNotInitialized("Provider openai is not configured"),
        "Provider openai is not configured",
        "ProviderTokenNotInitError",
    ),
    (
        UpstreamError("[openai] Error code: 500 - down"),
        "[openai] Error code: 500 - down",
        "InvokeError",
    ),
]


@pytest.mark.parametrize(("failure", "message", "error_type"), GATEWAY_FAILURES)
async def test_gateway_errors_fail_the_node(
    failure: Exception, message: str, error_type: str
) -> None:
    gateway = FakeGateway(fail_with=failure)  # type: ignore[arg-type]
    with pytest.raises(NodeError) as raised:
        await run_model_node(llm([USER]), chat_pool("q"), gateway=gateway)
    assert (raised.value.message, raised.value.error_type) == (message, error_type)


# -- in a graph ------------------------------------------------------------------------------
def chat_graph() -> dict[str, Any]:
    return graph(
        [
            ("start", {"type": "start", "title": "Start", "variables": []}),
            ("talk", {"type": "llm", "title": "Talk", "model": MODEL, "prompt_template": [USER],
                      "context": {"enabled": False}}),
            ("out", {"type": "answer", "title": "Out", "answer": "Said: {{#talk.text#}}"}),
        ],
        [("start", "source", "talk"), ("talk", "source", "out")],
    )  # fmt: skip


async def run_chat(
    gateway: FakeGateway, events: list[Event], run: RunContext | None = None
) -> tuple[Any, list[NodeExecution]]:
    pool = VariablePool({"query": "hi", "files": [], "conversation_id": "c", "dialogue_count": 1})
    executions: list[NodeExecution] = []
    outcome = await run_workflow(
        compile_workflow(chat_graph()),
        workflow_run(AppMode.ADVANCED_CHAT),
        pool,
        run or RunContext(gateway, events.append),
        WorkflowStream("task", "run", MessageStreamContext("task", "m", "c", 1)),
        60,
        executions.append,
    )
    return outcome, executions


async def test_tokens_reach_the_answer_while_the_model_streams() -> None:
    gateway = FakeGateway(script=[Scripted("Q: hi", "one two three")])
    events: list[Event] = []
    outcome, executions = await run_chat(gateway, events)
    assert outcome.status == "succeeded" and outcome.answer == "Said: one two three"
    chunks = [(e["answer"], e["from_variable_selector"]) for e in events if e["event"] == "message"]
    assert chunks == [
        ("Said: ", ["out", "answer"]),
        ("one", ["talk", "text"]),
        (" two", ["talk", "text"]),
        (" three", ["talk", "text"]),
    ]
    talk_done = next(
        i for i, e in enumerate(events)
        if e["event"] == "node_finished" and e["data"]["node_id"] == "talk"
    )  # fmt: skip
    assert all(
        i < talk_done
        for i, e in enumerate(events)
        if e["event"] == "message" and e["from_variable_selector"] == ["talk", "text"]
    )
    talk = next(e for e in executions if e.spec.id == "talk")
    assert talk.metadata is not None and talk.metadata["total_tokens"] == 10
    assert outcome.total_tokens == 10


async def test_a_stop_mid_stream_closes_the_model_stream() -> None:
    gateway = FakeGateway(script=[Scripted("Q: hi", " ".join(["word"] * 50))], token_delay=0.02)
    events: list[Event] = []
    run = RunContext(gateway, events.append)

    async def stop_after_two_words() -> None:
        while sum(1 for e in events if e.get("from_variable_selector") == ["talk", "text"]) < 2:
            await asyncio.sleep(0.005)
        run.stop.set()

    stopper = asyncio.create_task(stop_after_two_words())
    outcome, _ = await run_chat(gateway, events, run)
    await stopper
    assert outcome.status == "stopped"
    assert gateway.closed == 1  # the upstream stream was closed, not left running
    relayed = [e for e in events if e.get("from_variable_selector") == ["talk", "text"]]
    assert 2 <= len(relayed) < 50


async def test_the_deadline_cancels_a_held_model_call() -> None:
    gateway = FakeGateway(script=[Scripted("Q: hi", "never")])
    gateway.hold = asyncio.Event()  # never released
    events: list[Event] = []
    run = RunContext.lasting(gateway, events.append, asyncio.Event(), 0.1)
    outcome, _ = await run_chat(gateway, events, run)
    assert outcome.status == "failed" and "Maximum execution time" in str(outcome.error)
    assert gateway.closed == 1
