"""Agent-chat apps with tools, in-process: the classic runners' rounds, thoughts and
events over the shared strategies, with the scripted model and fake tools."""

import asyncio
import json
from typing import Any

from app.core.app_mode import AppMode
from app.engine.agent_chat import AgentChatTools, MessageFileRef
from app.engine.app_config import load_app_config
from app.engine.classic_runner import ClassicJob, RunResult, run_classic
from app.engine.events import Event, MessageStreamContext
from app.engine.run_context import RunContext
from app.integrations.tools.base import ToolCall, ToolError, ToolFile, ToolOutput
from tests.engine.agents.fake_tools import FakeTools, weather_spec
from tests.engine.fakes import FakeGateway, Scripted

PARIS = {"city": "Paris"}
WEATHER_CALL = Scripted(when="weather in", tool_call={"name": "weather", "arguments": PARIS})
SUNNY = ToolOutput(text="sunny, 21C")


# A model litellm's map does not know: its app's ReAct strategy is kept (Dify switches an
# app to function calling when its model supports tool calls, as gpt-4o-mini does).
REACT_MODEL = "local-llama-without-tools"


def _config(strategy: str = "function_call", max_iteration: int = 5, **extra: Any) -> Any:
    model = REACT_MODEL if strategy == "react" else "gpt-4o-mini"
    return load_app_config(
        AppMode.AGENT_CHAT,
        {
            "model": {"provider": "openai", "name": model, "mode": "chat"},
            "pre_prompt": "You help {{who}}.",
            "user_input_form": [],
            "agent_mode": {
                "enabled": True,
                "strategy": strategy,
                "max_iteration": max_iteration,
                "tools": [],
                **extra,
            },
        },
    )


def _ctx() -> MessageStreamContext:
    return MessageStreamContext(
        task_id="t", message_id="m", conversation_id="c", created_at=1, answer_event="agent_message"
    )


async def _run(
    gateway: FakeGateway,
    tools: FakeTools,
    strategy: str = "function_call",
    max_iteration: int = 5,
    query: str = "What is the weather in Paris?",
    fixed: dict[str, dict[str, Any]] | None = None,
    save_file: Any = None,
    run: RunContext | None = None,
) -> tuple[RunResult, list[Event]]:
    events: list[Event] = []
    setup = AgentChatTools(
        tools.agent_tools(fixed), tools, ToolCall(user_id="u", app_id="a"), save_file=save_file
    )
    job = ClassicJob(
        _config(strategy, max_iteration),
        {"who": "travellers"},
        query,
        [],
        agent=True,
        agent_tools=setup,
    )
    context = run or RunContext(gateway, events.append)
    result = await run_classic(job, context, _ctx())
    return result, events


async def test_function_calling_thoughts_events_and_answer() -> None:
    answer = Scripted(when="sunny, 21C", reply="It is sunny in Paris")
    gateway = FakeGateway(script=[answer, WEATHER_CALL])
    tools = FakeTools().add(weather_spec(), SUNNY)
    result, events = await _run(gateway, tools, fixed={"weather": {"units": "metric"}})

    assert [e["event"] for e in events] == [
        "agent_thought",  # round 1, with the first chunk (the tool call)
        "agent_thought",  # round 1 saved: the tool and its input
        "agent_thought",  # round 1 observation
        "agent_thought",  # round 2, first chunk
        "agent_message",
        "agent_message",
        "agent_message",
        "agent_message",
        "agent_message",
        "agent_thought",  # round 2 saved
    ]
    first, saved, observed = events[0], events[1], events[2]
    assert first["position"] == saved["position"] == observed["position"] == 1
    assert first["id"] == saved["id"] == observed["id"]
    assert (first["thought"], first["tool"], first["tool_input"]) == ("", "", "")
    assert saved["tool"] == "weather"
    assert json.loads(saved["tool_input"]) == {"weather": {"city": "Paris"}}
    label = "Weather lookup"
    assert saved["tool_labels"] == {"weather": {"en_US": label, "zh_Hans": label}}
    assert observed["observation"] == json.dumps({"weather": "sunny, 21C"})
    assert events[-1]["position"] == 2 and events[-1]["thought"] == "It is sunny in Paris"
    assert result.answer == "\nIt is sunny in Paris\n"  # Dify: every round's text + "\n"
    assert [t.position for t in result.thoughts] == [1, 2]

    # The tool ran with the model's argument and the configured value.
    [(name, arguments, call)] = tools.calls
    assert (name, arguments, call.user_id) == ("weather", {"city": "Paris", "units": "metric"}, "u")
    # The model saw the tool schema (llm parameters only), then the observation.
    first_call, second_call = gateway.calls
    [function] = first_call.tools
    assert function["function"]["parameters"] == {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city"}},
        "required": ["city"],
    }
    assert first_call.messages[0] == {"role": "system", "content": "You help travellers.\n"}
    assert second_call.messages[-2]["tool_calls"][0]["function"]["name"] == "weather"
    assert second_call.messages[-1] == {
        "role": "tool",
        "tool_call_id": "call_fake_0",
        "name": "weather",
        "content": "sunny, 21C",
    }
    # Usage is every round's, summed.
    assert result.usage["prompt_tokens"] == 14 and result.usage["completion_tokens"] == 1 + 5


async def test_the_last_round_offers_no_tools() -> None:
    gateway = FakeGateway(script=[WEATHER_CALL])  # calls the tool whenever it may
    tools = FakeTools().add(weather_spec(), SUNNY)
    result, _ = await _run(gateway, tools, max_iteration=2)
    assert len(gateway.calls) == 3  # min(max_iteration, 5) + 1
    assert [bool(c.tools) for c in gateway.calls] == [True, True, False]
    assert len(tools.calls) == 2 and len(result.thoughts) == 3
    assert result.answer.strip() == "echo:What is the weather in Paris?"


async def test_max_iteration_is_capped_at_five_rounds_plus_one() -> None:
    gateway = FakeGateway(script=[WEATHER_CALL])
    tools = FakeTools().add(weather_spec(), SUNNY)
    await _run(gateway, tools, max_iteration=10)
    assert len(gateway.calls) == 6


async def test_tool_failures_are_observations() -> None:
    gateway = FakeGateway(
        script=[Scripted(when="tool invoke error", reply="Sorry, no weather"), WEATHER_CALL]
    )
    tools = FakeTools().add(weather_spec(), ToolError("service down"))
    result, events = await _run(gateway, tools)
    observed = [e for e in events if e["event"] == "agent_thought" and e["observation"]]
    assert json.loads(observed[0]["observation"]) == {"weather": "tool invoke error: service down"}
    assert gateway.calls[1].messages[-1]["content"] == "tool invoke error: service down"
    assert result.answer.strip() == "Sorry, no weather" and result.error is None


async def test_an_unknown_tool_name_is_an_observation() -> None:
    gateway = FakeGateway(
        script=[
            Scripted(when="there is not a tool", reply="No such tool"),
            Scripted(when="weather in", tool_call={"name": "nope", "arguments": {}}),
        ]
    )
    tools = FakeTools().add(weather_spec(), SUNNY)
    result, _ = await _run(gateway, tools)
    assert gateway.calls[1].messages[-1]["content"] == "there is not a tool named nope"
    assert tools.calls == [] and result.answer.strip() == "No such tool"


async def test_files_a_tool_makes_are_message_files() -> None:
    stored: list[ToolFile] = []

    async def save(made: ToolFile) -> MessageFileRef:
        stored.append(made)
        return MessageFileRef("file-1", "image", "https://files.example/f.png")

    gateway = FakeGateway(script=[Scripted(when="image has been", reply="Here"), WEATHER_CALL])
    picture = ToolOutput(text="", files=[ToolFile("image/png", "map.png", b"\x89PNG")])
    tools = FakeTools().add(weather_spec(), picture)
    result, events = await _run(gateway, tools, save_file=save)
    [file_event] = [e for e in events if e["event"] == "message_file"]
    assert file_event["id"] == "file-1" and file_event["type"] == "image"
    assert file_event["belongs_to"] == "assistant"
    assert file_event["url"] == "https://files.example/f.png"
    assert result.thoughts[0].message_files == ["file-1"]
    assert [f.filename for f in stored] == ["map.png"]


REACT_ACTION = (
    "Thought: I need the weather.\nAction:\n```\n"
    '{"action": "weather", "action_input": {"city": "Paris"}}\n```'
)
REACT_FINAL = (
    'Thought: I know.\nAction:\n```\n{"action": "Final Answer", "action_input": "Sunny, 21C."}\n```'
)


async def test_react_thoughts_stream_and_the_final_answer_is_stored() -> None:
    gateway = FakeGateway(
        script=[
            Scripted(when="Observation: sunny", reply=REACT_FINAL),
            Scripted(when="weather in", reply=REACT_ACTION),
        ]
    )
    tools = FakeTools().add(weather_spec(), SUNNY)
    result, events = await _run(gateway, tools, strategy="react")

    messages = "".join(e["answer"] for e in events if e["event"] == "agent_message")
    assert messages == " I need the weather.\n\n I know.\n\nSunny, 21C."
    assert result.answer == "Sunny, 21C."
    first, second = result.thoughts
    assert first.tool == "weather" and json.loads(first.tool_input) == {"weather": PARIS}
    assert json.loads(first.observation) == {"weather": "sunny, 21C"}
    assert first.thought == "I need the weather.I need the weather."  # Dify appends on save
    assert second.tool == "Final Answer" and second.thought == "I know.Sunny, 21C."
    # The ReAct prompt: Dify's template, the tools as JSON, "Observation" as a stop word.
    first_call, second_call = gateway.calls
    assert first_call.tools == [] and first_call.stop == ["Observation"]
    system = first_call.messages[0]["content"]
    assert system.startswith("Respond to the human as helpfully and accurately as possible.")
    assert "You help travellers." in system and '"name": "weather"' in system
    assert second_call.messages[-1] == {"role": "user", "content": "continue"}
    assert "Observation: sunny, 21C" in second_call.messages[-2]["content"]


async def test_a_react_app_on_a_tool_calling_model_runs_function_calling() -> None:
    from app.engine.agent_chat import chat_strategy

    config = _config("react")
    assert chat_strategy(config, FakeGateway()) == "react"
    config.model.name = "gpt-4o-mini"
    assert chat_strategy(config, FakeGateway()) == "function_calling"


async def test_react_without_an_action_stores_an_empty_answer_as_dify_does() -> None:
    gateway = FakeGateway(script=[Scripted(when="weather in", reply="Just sunny.")])
    result, events = await _run(gateway, FakeTools().add(weather_spec(), SUNNY), strategy="react")
    assert "".join(e["answer"] for e in events if e["event"] == "agent_message") == "Just sunny."
    assert result.answer == "" and result.thoughts[0].thought == "Just sunny."


async def test_a_stop_mid_loop_keeps_the_thoughts_and_the_streamed_text() -> None:
    gateway = FakeGateway(
        script=[Scripted(when="sunny, 21C", reply="It is sunny in Paris"), WEATHER_CALL]
    )
    gateway.token_delay = 0.05
    events: list[Event] = []
    run = RunContext(gateway, events.append)

    async def stop_at_first_word() -> None:
        while not any(e["event"] == "agent_message" for e in events):
            await asyncio.sleep(0.005)
        run.stop.set()

    stopper = asyncio.create_task(stop_at_first_word())
    result, _ = await _run(gateway, FakeTools().add(weather_spec(), SUNNY), run=run)
    await stopper
    assert result.stopped and result.error is None
    assert result.answer == "It"
    assert [t.position for t in result.thoughts] == [1, 2]
    assert result.thoughts[0].tool == "weather"
    assert gateway.closed == len(gateway.calls)  # the upstream call was released


async def test_agents_run_offline_on_the_echo_model() -> None:
    """The offline model calls the tool, then answers once the tool has answered."""
    from app.core.config import Settings
    from app.gateway.gateway import ModelGateway

    config = load_app_config(
        AppMode.AGENT_CHAT,
        {
            "model": {"provider": "kiln", "name": "echo", "mode": "chat"},
            "pre_prompt": "",
            "user_input_form": [],
            "agent_mode": {"enabled": True, "strategy": "react", "tools": []},
        },
    )
    tools = FakeTools().add(weather_spec(), SUNNY)
    setup = AgentChatTools(tools.agent_tools(), tools, ToolCall(user_id="u", app_id="a"))
    job = ClassicJob(config, {}, "Weather in Rome?", [], agent=True, agent_tools=setup)
    events: list[Event] = []
    gateway = ModelGateway(Settings(offline_token_delay=0))
    result = await run_classic(job, RunContext(gateway, events.append), _ctx())
    assert [name for name, _, _ in tools.calls] == ["weather"]  # react → function calling
    assert result.answer.strip() == "Echo (turn 1): Weather in Rome?"
    assert [t.position for t in result.thoughts] == [1, 2]
