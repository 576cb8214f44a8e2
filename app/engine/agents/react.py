"""The ReAct strategy: the tools are described in the prompt (Dify's template) and the model
writes Thought / Action (a JSON blob) rounds; each action's observation goes back in the
scratchpad of the next round, until the action is "Final Answer", no action is written,
or the rounds run out. "Observation" is a stop word so the model does not invent one."""

import json
import time
from typing import Any

from app.engine.agents import observation
from app.engine.agents.model import UsageTotal, call_model
from app.engine.agents.react_parser import Piece, ReactParser
from app.engine.agents.react_prompts import (
    CHAT_PROMPT,
    COMPLETION_PROMPT,
    IGNORE_OBSERVATION_PROVIDERS,
    OBSERVATION_STOP,
    fill,
)
from app.engine.agents.run import AgentRun
from app.engine.agents.steps import Action, AgentListener, Outcome, PlannedCall, Step
from app.engine.agents.toolkit import ToolResult
from app.gateway.providers import provider_id

THINKING = "I am thinking about how to help you"  # Dify's stand-in for an empty thought


def _history_scratchpad(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Earlier turns as a ReAct model reads them (Dify's _organize_historic_prompt_messages):
    an assistant's tool calls and their observations become Thought/Action/Observation
    text after each user message."""
    result: list[dict[str, Any]] = []
    units: list[Step] = []
    current: Step | None = None

    def close() -> None:
        nonlocal units, current
        if units:
            result.append({"role": "assistant", "content": "".join(u.scratchpad() for u in units)})
        units, current = [], None

    for message in history:
        role = message.get("role")
        if role == "assistant":
            if current is None:
                text = str(message.get("content") or "")
                current = Step(len(units) + 1, last=False, response=text, thought=text or THINKING)
                units.append(current)
            calls = message.get("tool_calls") or []
            if calls:
                function = calls[0].get("function") or {}
                try:
                    given = json.loads(function.get("arguments") or "{}")
                except ValueError:
                    given = {}
                current.action = Action(str(function.get("name") or ""), given)
                current.action_str = json.dumps(current.action.to_dict())
        elif role == "tool":
            if current is not None:
                current.observation = str(message.get("content") or "")
        elif role == "user":
            close()
            result.append(message)
    close()
    return result


def _messages(run: AgentRun, tools: list[dict[str, Any]], pad: list[Step]) -> list[dict[str, Any]]:
    history = _history_scratchpad(run.history)
    if run.model.mode == "completion":
        return [{"role": "user", "content": _completion_prompt(run, tools, history, pad)}]
    system = fill(run.react_prompt or CHAT_PROMPT, run.instruction, tools)
    messages = [{"role": "system", "content": system}, *history]
    messages.append({"role": "user", "content": run.query})
    if pad:
        messages.append({"role": "assistant", "content": "".join(s.scratchpad() for s in pad)})
        messages.append({"role": "user", "content": "continue"})
    return messages


def _completion_prompt(
    run: AgentRun, tools: list[dict[str, Any]], history: list[dict[str, Any]], pad: list[Step]
) -> str:
    historic = ""
    for message in history:
        if message.get("role") == "user":
            historic += f"Question: {message.get('content')}\n\n"
        elif message.get("role") == "assistant":
            historic += f"{message.get('content')}\n\n"
    return (
        fill(run.react_prompt or COMPLETION_PROMPT, run.instruction, tools)
        .replace("{{historic_messages}}", historic)
        .replace("{{agent_scratchpad}}", "".join(s.scratchpad() for s in pad))
        .replace("{{query}}", f"Question: {run.query}")
    )


def _final_text(action: Action) -> str:
    given = action.input
    if isinstance(given, dict):
        return json.dumps(given)
    return given if isinstance(given, str) else f"{given}"


def _take(step: Step, pieces: list[Piece], listener: AgentListener) -> None:
    for piece in pieces:
        if isinstance(piece, Action):
            text = json.dumps(piece.to_dict())
            step.response += text
            step.action, step.action_str = piece, text
            continue
        step.response += piece
        step.thought += piece
        listener.text(step, piece)


async def run_react(run: AgentRun, listener: AgentListener) -> Outcome:
    policy, toolkit = run.policy, run.toolkit
    stop: tuple[str, ...] = ()
    if provider_id(run.model.provider) not in IGNORE_OBSERVATION_PROVIDERS:
        stop = (OBSERVATION_STOP,)
    pad: list[Step] = []
    outcome = Outcome("", UsageTotal(), [], time.perf_counter())
    answer = ""
    index = 0
    acting = True
    while acting and index < policy.rounds:
        acting = False
        index += 1
        step = Step(index, last=index == policy.rounds)
        outcome.steps.append(step)
        listener.round_started(step)
        tools = [] if step.last and policy.drop_tools_last else toolkit.prompt_tools()
        request = run.model.request(run.gateway, _messages(run, tools, pad), stop=stop)
        step.messages = request.messages
        parser = ReactParser()

        def on_text(delta: str, step: Step = step, parser: ReactParser = parser) -> None:
            _take(step, parser.feed(delta), listener)

        def on_first(step: Step = step) -> None:
            listener.model_streaming(step)

        reply = await call_model(run.gateway, request, on_text=on_text, on_first=on_first)
        _take(step, parser.finish(), listener)
        step.reply = reply
        outcome.usage.add(reply)
        step.thought = step.thought.strip()
        if not policy.thought_is_answer:
            step.thought = step.thought or THINKING
        pad.append(step)
        action = step.action
        if action is not None and not action.is_final_answer:
            step.calls = [PlannedCall(f"react_{index}", action.name, action.input)]
        listener.model_finished(step)
        if action is None:
            answer = step.thought if policy.thought_is_answer else ""
        elif action.is_final_answer:
            answer = _final_text(action)
        elif step.last and not policy.drop_tools_last:
            call = step.calls[0]
            listener.tool_started(step, call)
            text = observation.iteration_limit(policy.rounds, action.name)
            result = ToolResult(action.name, action.input, text, error=text)
            result.finished = time.perf_counter()
            step.results.append(result)
            step.observation = step.response = answer = text
            await listener.tool_finished(step, call, result)
        else:
            acting = True
            call = step.calls[0]
            listener.tool_started(step, call)
            result = await toolkit.invoke(action.name, action.input)
            step.results.append(result)
            step.observation = step.response = result.observation
            await listener.tool_finished(step, call, result)
        listener.round_finished(step)
    outcome.answer = answer
    return outcome
