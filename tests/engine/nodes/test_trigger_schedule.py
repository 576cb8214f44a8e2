"""trigger-schedule: visual schedules turned into cron as Dify turns them, cron mode and
its checks (five fields or a predefined expression; seconds only when allowed), the
timezone, fire times in that timezone, and the node's outputs."""

from datetime import UTC, datetime
from typing import Any

import pytest

from app.engine.nodes.trigger_schedule.node import TriggerScheduleNode
from app.engine.nodes.trigger_schedule.schedule import (
    Schedule,
    ScheduleError,
    read_schedule,
    to_24h,
)
from app.engine.variables.pool import VariablePool
from tests.engine.nodes.single_node import context
from tests.engine.nodes.support import spec, workflow_run


def _cron(frequency: str, **visual: Any) -> str:
    data = {"mode": "visual", "frequency": frequency, "visual_config": visual}
    return read_schedule(data).cron


def test_twelve_hour_times() -> None:
    assert to_24h("12:00 AM") == (0, 0)
    assert to_24h("12:00 PM") == (12, 0)
    assert to_24h("1:30 pm") == (13, 30)
    assert to_24h("11:59 PM") == (23, 59)
    for bad, message in (
        ("13:00 PM", "Invalid hour: 13"),
        ("2:75 AM", "Invalid minute: 75"),
        ("2:30", "Expected 'HH:MM AM/PM'"),
        ("2:30 XM", "Invalid period"),
    ):
        with pytest.raises(ScheduleError, match=message):
            to_24h(bad)


def test_visual_schedules_become_dify_cron() -> None:
    assert _cron("hourly", on_minute=15) == "15 * * * *"
    assert _cron("hourly") == "0 * * * *"  # on_minute defaults to 0
    assert _cron("daily", time="2:30 PM") == "30 14 * * *"
    assert _cron("daily") == "0 0 * * *"  # "12:00 AM" by default
    assert _cron("weekly", time="9:05 AM", weekdays=["sat", "mon", "sun"]) == "5 9 * * 0,1,6"
    assert _cron("monthly", time="6:00 PM", monthly_days=[15, 1, "last", 15]) == "0 18 1,15,L * *"
    for frequency, visual, message in (
        ("weekly", {}, "Weekdays are required for weekly schedules"),
        ("monthly", {"monthly_days": []}, "Monthly days are required for monthly schedules"),
        ("hourly", {"on_minute": None}, "on_minute is required for hourly schedules"),
        ("yearly", {}, "Unsupported frequency: yearly"),
    ):
        with pytest.raises(ScheduleError, match=message):
            _cron(frequency, **visual)


def test_cron_mode_and_its_checks() -> None:
    assert read_schedule({"mode": "cron", "cron_expression": "*/5 9-17 * * 1-5"}).cron == (
        "*/5 9-17 * * 1-5"
    )
    assert read_schedule({"mode": "cron", "cron_expression": "@daily"}).cron == "@daily"
    with pytest.raises(ScheduleError, match="Cron expression is required for cron mode"):
        read_schedule({"mode": "cron"})
    with pytest.raises(ScheduleError, match="exactly 5 fields .* Got 6 fields"):
        read_schedule({"mode": "cron", "cron_expression": "* * * * * */2"})
    seconds = read_schedule(
        {"mode": "cron", "cron_expression": "* * * * * */2"}, allow_seconds=True
    )
    assert seconds.cron == "* * * * * */2"
    with pytest.raises(ScheduleError, match="Invalid cron expression"):
        read_schedule({"mode": "cron", "cron_expression": "0 25 * * *"})
    with pytest.raises(ScheduleError, match="Invalid cron expression"):
        read_schedule({"mode": "cron", "cron_expression": "0 0 31 2 *"})  # never comes
    with pytest.raises(ScheduleError, match="Invalid schedule mode: sometimes"):
        read_schedule({"mode": "sometimes"})
    with pytest.raises(ScheduleError, match="Invalid timezone: 'Mars/Base'"):
        read_schedule({"mode": "cron", "cron_expression": "@hourly", "timezone": "Mars/Base"})


def test_fire_times_follow_the_nodes_timezone() -> None:
    tokyo = read_schedule(
        {
            "mode": "visual",
            "frequency": "daily",
            "visual_config": {"time": "9:00 AM"},
            "timezone": "Asia/Tokyo",
        }
    )
    base = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo: today's 9:00 is past
    assert tokyo.next_after(base) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    # Across New York's spring-forward, 09:00 local moves from 14:00 to 13:00 UTC.
    new_york = Schedule("0 9 * * *", "America/New_York")
    assert new_york.next_after(datetime(2026, 3, 7, 15, 0, tzinfo=UTC)) == datetime(
        2026, 3, 8, 13, 0, tzinfo=UTC
    )
    assert new_york.next_after(datetime(2026, 3, 6, 15, 0, tzinfo=UTC)) == datetime(
        2026, 3, 7, 14, 0, tzinfo=UTC
    )
    last = Schedule("0 0 L * *", "UTC")
    assert last.next_after(datetime(2028, 2, 3, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)


async def test_the_node_hands_on_its_inputs_and_the_system_variables() -> None:
    node = TriggerScheduleNode(spec("trigger-schedule", {"mode": "cron"}, "tick"))
    ctx = context(node.spec, VariablePool({"user_id": "DEFAULT-USER", "workflow_run_id": "r"}))
    ctx.workflow = workflow_run(inputs={"current_time": "2026-03-02T09:00:00+09:00"})
    result = await node.run(ctx)
    assert result.outputs == {
        "current_time": "2026-03-02T09:00:00+09:00",
        "sys.user_id": "DEFAULT-USER",
        "sys.workflow_run_id": "r",
    }
    assert result.inputs == result.outputs
