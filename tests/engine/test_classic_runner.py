"""The classic runner in-process: message events, usage, stop, deadline, gateway failures."""

import asyncio
from typing import Any

from app.core.app_mode import AppMode
from app.engine.app_config import load_app_config
from app.engine.classic_runner import ClassicJob, run_classic
from app.engine.events import Event, MessageStreamContext
from app.engine.run_context import RunContext
from app.gateway.types import UpstreamError
from tests.engine.fakes import FakeGateway, Scripted

MODEL_CONFIG: dict[str, Any] = {
    "model": {"provider": "openai", "name": "gpt-4o-mini", "mode": "chat"},
    "pre_prompt": "You are terse.",
    "user_input_form": [],
}


def _job(query: str = "hello there") -> ClassicJob:
    return ClassicJob(load_app_config(AppMode.CHAT, MODEL_CONFIG), {}, query, [])


def _ctx() -> MessageStreamContext:
    return MessageStreamContext(task_id="t", message_id="m", conversation_id="c", created_at=1)


async def test_streams_message_events_and_reports_usage() -> None:
    events: list[Event] = []
    gateway = FakeGateway(script=[Scripted(when="hello", reply="hi to you")])
    result = await run_classic(_job(), RunContext(gateway, events.append), _ctx())
    assert [e["answer"] for e in events] == ["hi", " to", " you"]
    assert {e["event"] for e in events} == {"message"}
    assert result.answer == "hi to you" and result.error is None and not result.stopped
    assert (result.usage["prompt_tokens"], result.usage["completion_tokens"]) == (7, 3)
    [request] = gateway.calls
    assert request.messages[0] == {"role": "system", "content": "You are terse.\n"}
    assert request.messages[-1]["role"] == "user"


async def test_a_stop_keeps_the_partial_answer() -> None:
    events: list[Event] = []
    gateway = FakeGateway(script=[Scripted(when="hello", reply="one two three four")])
    gateway.token_delay = 0.05
    run = RunContext(gateway, events.append)

    async def stop_after_first() -> None:
        while not events:
            await asyncio.sleep(0.005)
        run.stop.set()

    stopper = asyncio.create_task(stop_after_first())
    result = await run_classic(_job(), run, _ctx())
    await stopper
    assert result.stopped and result.error is None
    assert result.answer == "".join(e["answer"] for e in events)
    assert 0 < len(events) < 4


async def test_the_deadline_stops_a_run() -> None:
    gateway = FakeGateway(script=[Scripted(when="hello", reply="slow words")])
    gateway.hold = asyncio.Event()  # never released
    run = RunContext.lasting(gateway, lambda _: None, asyncio.Event(), 0.05)
    result = await run_classic(_job(), run, _ctx())
    assert result.stopped and result.answer == ""


async def test_a_gateway_failure_is_the_result_error() -> None:
    gateway = FakeGateway(fail_with=UpstreamError("upstream said no"))
    result = await run_classic(_job(), RunContext(gateway, lambda _: None), _ctx())
    assert isinstance(result.error, UpstreamError) and result.answer == ""
