"""The graceful-exit plan: every step falls inside the grace period, in order, and the ready
delay never reaches past the moment generations are stopped."""

import pytest

from app.runtime import ShutdownPlan


@pytest.mark.parametrize(
    ("grace", "ready_delay"), [(30.0, 5.0), (30.0, 0.0), (6.0, 0.0), (4.0, 10.0), (0.5, 0.2)]
)
def test_steps_are_ordered_within_the_grace_period(grace: float, ready_delay: float) -> None:
    plan = ShutdownPlan(started=100.0, grace=grace, ready_delay=ready_delay)
    steps = [
        plan.started,
        plan.listener_close_at,
        plan.stop_at,
        plan.cancel_at,
        plan.connections_deadline,
        plan.drain_deadline,
        plan.exit_deadline,
    ]
    assert steps == sorted(steps)
    assert plan.stop_at < plan.cancel_at < plan.connections_deadline < plan.drain_deadline
    assert plan.exit_deadline == plan.started + grace


def test_defaults_keep_five_seconds_to_stop_and_store() -> None:
    plan = ShutdownPlan(started=0.0, grace=30.0, ready_delay=5.0)
    assert (plan.listener_close_at, plan.stop_at) == (5.0, 25.0)
    # A ready delay longer than the streams' time is cut to the moment they are stopped.
    assert ShutdownPlan(started=0.0, grace=8.0, ready_delay=60.0).listener_close_at == 6.0
