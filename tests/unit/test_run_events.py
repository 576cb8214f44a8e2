"""`GET /v1/workflow/{id}/events` polling another replica's run: a look at a run that
still runs reads nothing more than the run row itself."""

from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from app.models import EndUser, WorkflowRun
from app.services.workflows import run_events


def _no_database(*args: Any, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
    raise AssertionError("a running run's poll read the database again")


async def test_a_running_chatflow_poll_reads_no_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_events, "session_scope", _no_database)
    run = WorkflowRun(
        app_id="app",
        workflow_id="version",
        type="chat",
        inputs={},
        outputs={},
        created_by="user",
        conversation_id="conversation",
        message_id="message",
    )
    user = EndUser(app_id="app", session_id="u")
    assert await run_events._state_events(run, user) is None
