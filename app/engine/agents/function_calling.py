"""The function-calling strategy: the model is offered the tools natively; each round it
answers with text and/or tool calls; the calls run one after another and their
observations go back as `tool` messages; the run ends when a round calls no tool or the
rounds run out. Classic apps offer no tools in their last round (the model must answer);
the node's plugin keeps them and answers a late call with the iteration-limit message."""

import json
import time
from typing import Any

from app.engine.agents import observation
from app.engine.agents.model import UsageTotal, call_model
from app.engine.agents.run import AgentRun, user_message, without_images
from app.engine.agents.steps import AgentListener, Outcome, PlannedCall, Step
from app.engine.agents.toolkit import ToolResult
from app.gateway.types import ToolCall


def _arguments(call: ToolCall) -> Any:
    """The model's arguments as a JSON object (its text when they are not one)."""
    if not call.arguments.strip():
        return {}
    try:
        parsed = json.loads(call.arguments)
    except ValueError:
        return call.arguments
    return parsed if isinstance(parsed, dict) else call.arguments


def _assistant(text: str, calls: list[PlannedCall]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": json.dumps(call.arguments, ensure_ascii=False)
                    if isinstance(call.arguments, dict)
                    else str(call.arguments),
                },
            }
            for call in calls
        ]
    return message


def _tool_message(call: PlannedCall, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content}


def _relay(step: Step, listener: AgentListener) -> dict[str, Any]:
    """The stream callbacks of one round: text goes to the listener as it comes."""

    def on_text(delta: str) -> None:
        step.response += delta
        listener.text(step, delta)

    def on_first() -> None:
        listener.model_streaming(step)

    def on_call(_: ToolCall) -> None:
        step.calling = True

    return {"on_text": on_text, "on_first": on_first, "on_call": on_call}


async def run_function_calling(run: AgentRun, listener: AgentListener) -> Outcome:
    policy, toolkit = run.policy, run.toolkit
    head: list[dict[str, Any]] = []
    if run.instruction:
        head.append({"role": "system", "content": run.instruction})
    head += run.history
    query = user_message(run.query, run.query_parts)
    thoughts: list[dict[str, Any]] = []  # this run's assistant and tool messages
    outcome = Outcome("", UsageTotal(), [], time.perf_counter())
    answer = ""
    index = 0
    calling = True
    while calling and index < policy.rounds:
        index += 1
        step = Step(index, last=index == policy.rounds)
        outcome.steps.append(step)
        listener.round_started(step)
        offered = [] if step.last and policy.drop_tools_last else toolkit.functions()
        messages = [*head, query, *thoughts]
        if thoughts:
            messages = without_images(messages)
        request = run.model.request(run.gateway, messages, offered)
        step.messages = request.messages

        reply = await call_model(run.gateway, request, **_relay(step, listener))
        step.reply, step.response, step.thought = reply, reply.text, reply.text
        outcome.usage.add(reply)
        step.calls = [PlannedCall(c.id, c.name, _arguments(c)) for c in reply.tool_calls]
        calling = bool(step.calls)
        if step.calls:
            thoughts.append(_assistant(reply.text if policy.text_with_calls else "", step.calls))
        elif reply.text.strip() or not policy.text_with_calls:
            thoughts.append(_assistant(reply.text, []))
        answer += reply.text + "\n"
        listener.model_finished(step)
        refuse = step.last and not policy.drop_tools_last and policy.rounds > 1
        for call in step.calls:
            listener.tool_started(step, call)
            if refuse:
                text = observation.iteration_limit(policy.rounds, call.name)
                result = ToolResult(call.name, call.arguments, text, error=text)
                result.finished = time.perf_counter()
            else:
                result = await toolkit.invoke(call.name, call.arguments)
            step.results.append(result)
            thoughts.append(_tool_message(call, result.observation))
            await listener.tool_finished(step, call, result)
        listener.round_finished(step)
    outcome.answer = answer
    return outcome
