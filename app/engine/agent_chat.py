"""Agent-chat apps with tools: the agent loop of Dify's classic runners on the shared
strategies (app/engine/agents), streamed and recorded as Dify does it. Each round is one
agent thought: announced when it starts (ReAct) or with the model's first chunk (function
calling), saved with the tools it called and their input, saved again with the
observations and the files the tools made (`message_file` events); the model's text (the
thought, for ReAct) streams as `agent_message` events; the answer stored is the final
answer. A stop keeps what was streamed and the thoughts so far."""

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.engine.agent_thought import AgentThought
from app.engine.agents.history import fit_history
from app.engine.agents.model import AgentModel
from app.engine.agents.policy import AgentPolicy
from app.engine.agents.run import AgentRun
from app.engine.agents.steps import AgentListener, Outcome, PlannedCall, Step
from app.engine.agents.strategy import STRATEGIES, Kind, classic_strategy
from app.engine.agents.toolkit import Toolkit, ToolResult
from app.engine.agents.tools import AgentTool, ToolRunner
from app.engine.app_config import AppConfig
from app.engine.events import MessageStreamContext
from app.engine.moderation.output import OutputGuard
from app.engine.prompt import build_prompt
from app.engine.run_context import RunContext
from app.gateway.gateway import ModelGateway
from app.gateway.pricing import build_usage, context_size, model_info
from app.gateway.providers import OFFLINE_PROVIDER, provider_id
from app.gateway.tokens import count_message_tokens, count_tokens
from app.gateway.types import GatewayError, ModelRequest
from app.integrations.tools.base import ToolCall, ToolFile

DEFAULT_MAX_ITERATION = 10  # agent_mode.max_iteration when the DSL has none


@dataclass(frozen=True, slots=True)
class MessageFileRef:
    """A stored file of the answer, as its `message_file` event names it."""

    id: str
    type: str  # image | document | audio | video | custom
    url: str  # signed (a stored tool file) or the tool's own http(s) URL
    belongs_to: str = "assistant"


# Stores a file a tool made as a file of the answer (`message_files`, belongs_to assistant).
SaveMessageFile = Callable[[ToolFile], Awaitable[MessageFileRef]]


@dataclass(slots=True)
class AgentChatTools:
    """What services resolved for an agent-chat app with tools."""

    tools: list[AgentTool]
    runner: ToolRunner
    call: ToolCall
    history: list[dict[str, Any]] = field(default_factory=list)  # app/engine/agents/history
    save_file: SaveMessageFile | None = None
    # What the app's dataset tools found, one group per call (message_end, /messages).
    resources: list[list[dict[str, Any]]] = field(default_factory=list)


@dataclass(slots=True)
class AgentChatResult:
    answer: str
    usage: dict[str, Any]
    thoughts: list[AgentThought]
    stopped: bool = False
    error: GatewayError | None = None
    provider: str = ""
    model: str = ""


def _labels(names: list[str], tools: Toolkit) -> dict[str, Any]:
    """Dify's tool_labels: each tool's label in en_US and zh_Hans (its name when unknown)."""
    labels: dict[str, Any] = {}
    for name in names:
        tool = tools.find(name)
        label = tool.label if tool is not None else name
        labels[name] = {"en_US": label, "zh_Hans": label}
    return labels


class ChatListener(AgentListener):
    def __init__(
        self,
        kind: Kind,
        ctx: MessageStreamContext,
        run: RunContext,
        toolkit: Toolkit,
        guard: OutputGuard | None,
        save_file: SaveMessageFile | None,
    ) -> None:
        self._kind, self._ctx, self._emit = kind, ctx, run.emit
        self._toolkit, self._guard, self._save_file = toolkit, guard, save_file
        self.thoughts: list[AgentThought] = []
        self.streamed: list[str] = []
        self.first_prompt: list[dict[str, Any]] = []
        self._observations: dict[str, str] = {}
        self._files: list[str] = []

    @property
    def _current(self) -> AgentThought:
        return self.thoughts[-1]

    def _announce(self) -> None:
        self._emit(self._ctx.agent_thought(self._current))

    def round_started(self, step: Step) -> None:
        self.thoughts.append(AgentThought(position=len(self.thoughts) + 1))
        self._observations, self._files = {}, []
        if self._kind == "react":  # Dify's ReAct runner announces each round up front
            self._announce()

    def model_streaming(self, step: Step) -> None:
        if not self.first_prompt:
            self.first_prompt = step.messages
        if self._kind == "function_calling":
            self._announce()

    def text(self, step: Step, delta: str) -> None:
        self.relay(delta)

    def relay(self, delta: str) -> None:
        guard = self._guard
        if not delta or (guard is not None and guard.final_output is not None):
            return
        self.streamed.append(delta)
        if guard is not None:
            guard.append(delta)
        self._emit(self._ctx.message(delta))

    def model_finished(self, step: Step) -> None:
        thought = self._current
        if step.reply is not None:
            thought.tokens = step.reply.prompt_tokens + step.reply.completion_tokens
        if self._kind == "function_calling":
            thought.thought += step.response
            if step.calls:
                names = [call.name for call in step.calls]
                thought.tool = ";".join(names)
                thought.tool_input = json.dumps(
                    {call.name: call.arguments for call in step.calls}, ensure_ascii=False
                )
                thought.tool_labels = _labels(names, self._toolkit)
            self._announce()
            return
        thought.thought += step.thought
        if step.action is not None:
            thought.tool = step.action.name
            thought.tool_input = json.dumps(
                {step.action.name: step.action.input}, ensure_ascii=False
            )
            thought.tool_labels = _labels([step.action.name], self._toolkit)
        if not step.is_final:
            self._announce()

    async def tool_finished(self, step: Step, call: PlannedCall, result: ToolResult) -> None:
        self._observations[call.name] = result.observation
        if result.output is None or self._save_file is None:
            return
        for made in result.output.files:
            ref = await self._save_file(made)
            self._files.append(ref.id)
            self._emit(self._ctx.message_file(ref.id, ref.type, ref.url, ref.belongs_to))

    def round_finished(self, step: Step) -> None:
        if not step.results:
            return
        thought = self._current
        if self._kind == "react":
            # Dify's ReAct runner saves the round's thought again with the observation,
            # and a save appends the thought it is given.
            thought.thought += step.thought
        thought.observation = json.dumps(self._observations, ensure_ascii=False)
        if self._files:
            thought.message_files = list(self._files)
        self._announce()

    def finish(self, outcome: Outcome) -> str:
        """The answer to store. ReAct sends its final answer as one last chunk and adds it
        to the last thought (unannounced), as Dify's runner does."""
        if self._kind == "function_calling":
            return outcome.answer
        if outcome.answer:
            self.relay(outcome.answer)
        if self.thoughts:
            self._current.thought += outcome.answer
        return outcome.answer


def _instruction(kind: Kind, config: AppConfig, inputs: dict[str, Any], query: str) -> str:
    """Function calling: the app prompt's system message (pre_prompt with its inputs);
    ReAct: the pre_prompt with `{{input}}` placeholders replaced by the values."""
    if kind == "react":
        text = config.pre_prompt
        for key, value in inputs.items():
            text = text.replace(f"{{{{{key}}}}}", str(value))
        return text
    prompt = build_prompt(config, inputs, query, [], None)
    return "".join(
        str(m.get("content") or "") for m in prompt.messages if m.get("role") == "system"
    )


def _react_prompt(config: AppConfig) -> str | None:
    """The app's own ReAct `first_prompt` (agent_mode.prompt); None: Dify's template."""
    prompt = config.feature("agent_mode").get("prompt")
    if isinstance(prompt, dict) and isinstance(prompt.get("first_prompt"), str):
        return str(prompt["first_prompt"]) or None
    return None


def _max_iteration(config: AppConfig) -> int:
    value = config.feature("agent_mode").get("max_iteration", DEFAULT_MAX_ITERATION)
    try:
        return int(value)
    except (TypeError, ValueError):
        return DEFAULT_MAX_ITERATION


def _calls_tools(provider: str, model: str) -> bool:
    """Whether the model takes tools natively (litellm's cost map; the offline model does)."""
    if provider_id(provider) == OFFLINE_PROVIDER:
        return True
    return bool(model_info(provider, model).get("supports_function_calling"))


def chat_strategy(config: AppConfig, gateway: ModelGateway) -> Kind:
    """The strategy an agent-chat app runs (raises UnknownStrategy). Dify's runner switches
    to function calling whenever the model supports tool calls, whatever the app says."""
    model = config.model
    kind = classic_strategy(config.feature("agent_mode").get("strategy"), model.provider)
    probe = gateway.effective(ModelRequest(model.provider, model.name, []))
    if kind == "react" and _calls_tools(probe.provider, probe.model):
        return "function_calling"
    return kind


def agent_run(
    config: AppConfig,
    inputs: dict[str, Any],
    query: str,
    tools: AgentChatTools,
    run: RunContext,
    file_parts: list[dict[str, Any]],
) -> tuple[Kind, AgentRun]:
    """The run a classic agent-chat app makes of its config (raises UnknownStrategy)."""
    model = config.model
    kind = chat_strategy(config, run.gateway)
    policy = AgentPolicy.classic(_max_iteration(config))
    stops = tuple(model.stop)
    agent_model = AgentModel(model.provider, model.name, model.mode, model.params, stops)
    instruction = _instruction(kind, config, inputs, query)
    request = agent_model.request(run.gateway, [{"role": "user", "content": query}])
    history = tools.history
    size = context_size(request.provider, request.model)
    if history and size:
        max_tokens = request.params.get("max_tokens")
        reserved = int(max_tokens) if isinstance(max_tokens, int | float) else 0
        used = count_tokens(instruction) + count_tokens(query)
        history = fit_history(history, max(size - reserved - used, 0))
    toolkit = Toolkit(
        tools.tools, tools.runner, tools.call, policy.style, fixed_wins=policy.fixed_wins
    )
    return kind, AgentRun(
        gateway=run.gateway,
        model=agent_model,
        toolkit=toolkit,
        policy=policy,
        query=query,
        instruction=instruction,
        history=history,
        query_parts=file_parts if kind == "function_calling" else [],
        react_prompt=_react_prompt(config) if kind == "react" else None,
    )


async def run_agent_chat(
    kind: Kind,
    agent: AgentRun,
    run: RunContext,
    ctx: MessageStreamContext,
    guard: OutputGuard | None,
    save_file: SaveMessageFile | None,
) -> AgentChatResult:
    started = time.perf_counter()
    listener = ChatListener(kind, ctx, run, agent.toolkit, guard, save_file)
    loop: asyncio.Task[Outcome] = asyncio.create_task(
        STRATEGIES[kind](agent, listener), name="agent-loop"
    )
    ended = await run.finishes(loop, *([guard.blocked] if guard is not None else []))
    result = AgentChatResult("", {}, listener.thoughts)
    if ended:
        error = loop.exception()
        if isinstance(error, GatewayError):
            result.error = error
        elif error is not None:
            raise error
        else:
            outcome = loop.result()
            result.answer = listener.finish(outcome)
            usage = outcome.usage
            result.provider, result.model = usage.provider, usage.model
            result.usage = usage.usage(time.perf_counter() - started)
            return result
    else:
        result.stopped = guard is None or not guard.blocked.is_set()
        with contextlib.suppress(asyncio.CancelledError, GatewayError):
            await loop
    # Stopped (or failed): what was streamed stands; usage is counted as Dify counts a
    # stop: the first prompt and the streamed text.
    result.answer = "".join(listener.streamed)
    probe = agent.model.request(run.gateway, [])
    result.provider, result.model = probe.provider, probe.model
    prompt_tokens = count_message_tokens(listener.first_prompt) if result.stopped else 0
    completion = count_tokens(result.answer) if result.stopped else 0
    result.usage = build_usage(
        probe.provider, probe.model, prompt_tokens, completion, time.perf_counter() - started
    )
    return result
