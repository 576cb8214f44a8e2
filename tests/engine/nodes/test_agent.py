"""The workflow `agent` node: Dify's exported data (strategy, agent_parameters, memory), the
strategy plugin's function calling and ReAct over fake tools, `agent_log` events, outputs,
and the node streaming its answer to an answer node in an advanced-chat graph."""

from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.events import Event, MessageStreamContext
from app.engine.nodes.base import NodeError
from app.engine.nodes.registry import unsupported_reason
from app.engine.prompt import Turn
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue
from app.engine.workflow.engine import compile_workflow, run_workflow
from app.engine.workflow.env import WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.integrations.tools.base import ToolError, ToolFile, ToolOutput
from tests.engine.agents.fake_tools import FakeTools, weather_spec
from tests.engine.fakes import FakeGateway, Scripted
from tests.engine.nodes.model_support import build, chat_pool, run_model_node
from tests.engine.nodes.support import graph, spec, workflow_run

MODEL = {
    "completion_params": {},
    "mode": "chat",
    "model": "gpt-4o-mini",
    "model_type": "llm",
    "provider": "langgenius/openai/openai",
    "type": "model-selector",
}
WEATHER_TOOL = {
    "enabled": True,
    "extra": {"description": ""},
    "parameters": {"city": {"auto": 1, "value": None}},
    "provider_name": "weather_co",
    "schemas": [{"name": "city", "form": "llm"}],
    "settings": {"units": {"value": "metric"}},
    "tool_label": "Weather",
    "tool_name": "weather",
    "type": "builtin",
}
DISABLED_TOOL = {**WEATHER_TOOL, "enabled": False, "tool_name": "other"}
WEATHER_CALL = Scripted(
    when="weather in", tool_call={"name": "weather", "arguments": {"city": "Oslo"}}
)


def agent_data(strategy: str = "function_calling", **parameters: Any) -> dict[str, Any]:
    params = {
        "model": {"type": "constant", "value": MODEL},
        "tools": {"type": "constant", "value": [WEATHER_TOOL, DISABLED_TOOL]},
        "instruction": {"type": "constant", "value": "Answer about {{#sys.query#}}."},
        "query": {"type": "constant", "value": "{{#sys.query#}}"},
    }
    params.update({k: {"type": "constant", "value": v} for k, v in parameters.items()})
    return {
        "type": "agent",
        "title": "Agent",
        "agent_strategy_provider_name": "langgenius/agent/agent",
        "agent_strategy_name": strategy,
        "agent_strategy_label": strategy,
        "agent_parameters": params,
        "output_schema": None,
        "plugin_unique_identifier": "langgenius/agent:0.0.9@abc",
    }


def services(
    tools: FakeTools, saved: list[tuple[bytes, str, str]] | None = None
) -> WorkflowServices:
    async def save_file(content: bytes, mime: str, name: str) -> FileValue:
        if saved is not None:
            saved.append((content, mime, name))
        return FileValue("image", "tool_file", name, ".png", mime, len(content), url="/f", id="f1")

    return WorkflowServices(tools=tools, save_file=save_file)


async def test_function_calling_logs_outputs_and_streamed_text() -> None:
    tools = FakeTools().add(weather_spec(), ToolOutput(text="cold, -3C"))
    node = build("agent", agent_data())
    emitted: list[tuple[str, dict[str, Any]]] = []
    gateway = FakeGateway(
        script=[Scripted(when="cold, -3C", reply="It is cold in Oslo"), WEATHER_CALL]
    )
    run = await run_model_node(
        node,
        chat_pool("weather in Oslo?"),
        gateway=gateway,
        services=services(tools),
        emit=lambda event, data: emitted.append((event, data)),
    )
    result = run.result
    assert result.outputs["text"] == "\nIt is cold in Oslo"  # the plugin's blank line after tools
    assert "".join(run.streamed) == result.outputs["text"]
    assert result.outputs["files"] == []
    assert result.outputs["usage"]["total_tokens"] == 14 + 6
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (14, 6)
    [(name, arguments, call)] = tools.calls
    assert (name, arguments, call.app_id) == ("weather", {"units": "metric", "city": "Oslo"}, "app")

    # agent_log: ROUND 1 (start), its Thought (start), Thought done, CALL start, CALL done,
    # ROUND 1 done, then round 2 the same without a call.
    labels = [(d["label"], d["status"]) for e, d in emitted if e == "agent_log"]
    assert labels == [
        ("ROUND 1", "start"),
        ("gpt-4o-mini Thought", "start"),
        ("gpt-4o-mini Thought", "success"),
        ("CALL weather", "start"),
        ("CALL weather", "success"),
        ("ROUND 1", "success"),
        ("ROUND 2", "start"),
        ("gpt-4o-mini Thought", "start"),
        ("gpt-4o-mini Thought", "success"),
        ("ROUND 2", "success"),
    ]
    logs = [d for e, d in emitted if e == "agent_log"]
    assert set(logs[0]) == {
        "node_execution_id",
        "id",
        "label",
        "parent_id",
        "error",
        "status",
        "data",
        "metadata",
        "node_id",
    }
    assert logs[0]["node_execution_id"] == "execution" and logs[0]["node_id"] == "node"
    assert logs[1]["parent_id"] == logs[0]["id"] and logs[3]["parent_id"] == logs[0]["id"]
    assert logs[2]["data"]["tool_input"] == [{"name": "weather", "args": {"city": "Oslo"}}]
    assert logs[4]["data"]["output"]["tool_response"] == "cold, -3C"
    assert logs[1]["metadata"]["provider"] == "langgenius/openai/openai"

    # json: every log once (its last state), then Dify's {"data": []}.
    json_out = result.outputs["json"]
    assert [j["label"] for j in json_out[:-1]] == [
        "ROUND 1",
        "gpt-4o-mini Thought",
        "CALL weather",
        "ROUND 2",
        "gpt-4o-mini Thought",
    ]
    assert json_out[-1] == {"data": []}
    assert result.metadata["tool_info"] == {"icon": None, "agent_strategy": "function_calling"}
    assert result.metadata["agent_log"] == json_out[:-1]
    # Inputs are the resolved parameters, tools as Dify logs them (enabled ones, no schemas).
    assert result.inputs["query"] == "weather in Oslo?"
    assert result.inputs["instruction"] == "Answer about weather in Oslo?."
    [tool_input] = result.inputs["tools"]
    assert "schemas" not in tool_input and tool_input["settings"] == {"units": "metric"}
    # The model: the instruction as system message, the query, the tool schema.
    first = gateway.calls[0]
    assert first.messages[0] == {"role": "system", "content": "Answer about weather in Oslo?."}
    assert first.messages[-1] == {"role": "user", "content": "weather in Oslo?"}
    assert [t["function"]["name"] for t in first.tools] == ["weather"]


async def test_hand_set_parameters_are_fixed_and_not_offered() -> None:
    tool = {**WEATHER_TOOL, "parameters": {"city": {"auto": 0, "value": {"value": "Bergen"}}}}
    tools = FakeTools().add(weather_spec(), ToolOutput(text="rain"))
    data = agent_data(tools=[tool])
    # The model fills nothing (it was offered nothing): the hand-set city is sent.
    call = Scripted(when="weather in", tool_call={"name": "weather", "arguments": {}})
    gateway = FakeGateway(script=[Scripted(when="rain", reply="Wet"), call])
    await run_model_node(
        build("agent", data),
        chat_pool("weather in Bergen?"),
        gateway=gateway,
        services=services(tools),
    )
    [function] = gateway.calls[0].tools
    assert function["function"]["parameters"]["properties"] == {}
    assert tools.calls[0][1] == {"units": "metric", "city": "Bergen"}


async def test_the_last_round_refuses_tool_calls_with_the_plugin_message() -> None:
    tools = FakeTools().add(weather_spec(), ToolOutput(text="cold"))
    node = build("agent", agent_data(maximum_iterations=2))
    gateway = FakeGateway(script=[WEATHER_CALL])  # always calls the tool
    run = await run_model_node(
        node, chat_pool("weather in Oslo?"), gateway=gateway, services=services(tools)
    )
    assert len(gateway.calls) == 2 and all(c.tools for c in gateway.calls)
    assert len(tools.calls) == 1
    refused = [j for j in run.result.outputs["json"] if j.get("label") == "CALL weather"][-1]
    assert refused["data"]["output"]["tool_response"] == (
        "Maximum iteration limit (2) reached. Cannot call tool 'weather'. "
        "Please consider increasing the iteration limit."
    )


async def test_tool_errors_are_observations_and_files_are_outputs() -> None:
    tools = FakeTools().add(weather_spec(), ToolError("quota exceeded"))
    gateway = FakeGateway(
        script=[Scripted(when="tool invoke error", reply="No luck"), WEATHER_CALL]
    )
    run = await run_model_node(
        build("agent", agent_data()),
        chat_pool("weather in Oslo?"),
        gateway=gateway,
        services=services(tools),
    )
    assert gateway.calls[1].messages[-1]["content"] == "tool invoke error: quota exceeded"
    assert run.result.outputs["text"].endswith("No luck")

    saved: list[tuple[bytes, str, str]] = []
    picture = ToolOutput(files=[ToolFile("image/png", "map.png", b"png!")])
    tools = FakeTools().add(weather_spec(), picture)
    gateway = FakeGateway(
        script=[Scripted(when="image has been", reply="See the map"), WEATHER_CALL]
    )
    run = await run_model_node(
        build("agent", agent_data()),
        chat_pool("weather in Oslo?"),
        gateway=gateway,
        services=services(tools, saved),
    )
    [file] = run.result.outputs["files"]
    assert file.transfer_method == "tool_file" and saved == [(b"png!", "image/png", "map.png")]


async def test_react_streams_the_final_answer() -> None:
    tools = FakeTools().add(weather_spec(), ToolOutput(text="cold, -3C"))
    action = 'Thought: look it up\nAction: {"action": "weather", "action_input": {"city": "Oslo"}}'
    final = 'Thought: done\nAction: {"action": "Final Answer", "action_input": "Cold: -3C"}'
    gateway = FakeGateway(
        script=[
            Scripted(when="Observation: cold", reply=final),
            Scripted(when="weather in", reply=action),
        ]
    )
    run = await run_model_node(
        build("agent", agent_data("ReAct")),
        chat_pool("weather in Oslo?"),
        gateway=gateway,
        services=services(tools),
    )
    assert run.result.outputs["text"] == "Cold: -3C" and run.streamed == ["Cold: -3C"]
    assert tools.calls[0][1] == {"units": "metric", "city": "Oslo"}
    system = gateway.calls[0].messages[0]["content"]
    assert "Answer about weather in Oslo?." in system and "weather" in system
    logs = run.result.outputs["json"]
    thought_logs = [j for j in logs if str(j.get("label")).endswith("Thought")]
    assert thought_logs[0]["data"] == {
        "thought": "look it up",
        "action": "weather",
        "action_input": {"city": "Oslo"},
    }


async def test_memory_sends_the_conversation_before_the_query() -> None:
    tools = FakeTools().add(weather_spec(), ToolOutput(text="x"))
    data = agent_data()
    data["memory"] = {"window": {"enabled": True, "size": 1}}
    history = [Turn("first question", "first answer"), Turn("second question", "second answer")]
    gateway = FakeGateway(script=[Scripted(when="hello", reply="hi")])
    await run_model_node(
        build("agent", data),
        chat_pool("hello"),
        gateway=gateway,
        history=history,
        services=services(tools),
    )
    roles = [(m["role"], m["content"]) for m in gateway.calls[0].messages]
    assert roles[1:] == [
        ("user", "second question"),
        ("assistant", "second answer"),
        ("user", "hello"),
    ]


async def test_marketplace_strategies_map_by_name_or_fail_naming_the_strategy() -> None:
    mcp = agent_data("mcp_sse_ReAct")
    mcp["agent_strategy_provider_name"] = "junjiem/mcp_see_agent/mcp_see_agent"
    assert unsupported_reason(spec("agent", mcp)) is None
    custom = agent_data("TOD")
    custom["agent_strategy_provider_name"] = "afeaad50/agent/agent"
    reason = unsupported_reason(spec("agent", custom))
    assert reason is not None and "'TOD'" in reason and "afeaad50/agent/agent" in reason


async def test_a_tool_that_is_not_configured_fails_the_node() -> None:
    tools = FakeTools().add(weather_spec(), ToolOutput(text="x"))
    tools.missing.add("weather")
    with pytest.raises(NodeError) as failed:
        await run_model_node(
            build("agent", agent_data()),
            chat_pool("hi"),
            gateway=FakeGateway(),
            services=services(tools),
        )
    assert "tools.credentials.weather_co" in failed.value.message
    assert failed.value.inputs["query"] == "hi"


async def test_an_agent_node_streams_to_an_answer_in_a_chat_graph() -> None:
    workflow = graph(
        [
            ("start", {"type": "start", "title": "Start", "variables": []}),
            ("agent", agent_data()),
            ("answer", {"type": "answer", "title": "Answer", "answer": "A: {{#agent.text#}}"}),
        ],
        [("start", "source", "agent"), ("agent", "source", "answer")],
    )
    tools = FakeTools().add(weather_spec(), ToolOutput(text="cold, -3C"))
    gateway = FakeGateway(script=[Scripted(when="cold, -3C", reply="It is cold"), WEATHER_CALL])
    system = {"query": "weather in Oslo?", "files": [], "conversation_id": "c", "user_id": "u"}
    events: list[Event] = []
    executions: list[NodeExecution] = []
    outcome = await run_workflow(
        compile_workflow(workflow),
        workflow_run(AppMode.ADVANCED_CHAT, services(tools)),
        VariablePool(system),
        RunContext(gateway, events.append),
        WorkflowStream("task", "run", MessageStreamContext("task", "m", "c", 1)),
        60,
        executions.append,
    )
    assert outcome.status == "succeeded"
    answer = "".join(e["answer"] for e in events if e["event"] == "message")
    assert answer == "A: \nIt is cold"
    kinds = [e["event"] for e in events]
    assert kinds.count("agent_log") == 10
    started = next(
        e for e in events if e["event"] == "node_started" and e["data"]["node_type"] == "agent"
    )
    assert started["data"]["agent_strategy"] == {"name": "function_calling", "icon": None}
    log = next(e for e in events if e["event"] == "agent_log")
    assert set(log) == {"event", "conversation_id", "message_id", "created_at", "task_id", "data"}
    agent = next(x for x in executions if x.spec.id == "agent")
    assert agent.metadata is not None and agent.metadata["total_tokens"] == 14 + 4
    assert agent.metadata["tool_info"]["agent_strategy"] == "function_calling"
    assert tools.calls[0][2].user_id == "u"
    # In a workflow app's stream the event carries the run id.
    workflow_log = WorkflowStream("task", "run").agent_log(log["data"])
    assert set(workflow_log) == {"event", "workflow_run_id", "task_id", "data"}
