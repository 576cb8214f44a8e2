"""Schedule triggers in a serving process: due ticks fire runs from the schedule's node
(`triggered_from: schedule`, Dify's `current_time` in the node's timezone), one fire
record per tick; a late schedule fires once; an update that changes a schedule starts it
anew, one that drops the node stops it; an unreadable schedule is reported at import and
never fires. The suite allows a seconds field (KILN_SCHEDULER_CRON_SECONDS) so ticks come
two seconds apart."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import col, update

from app.core.config import get_settings
from app.core.db import session_scope
from app.models import AppTrigger, TriggerFire
from app.models.base import utcnow
from app.services.apps.importer import import_app, update_app
from app.services.triggers.listing import app_triggers
from app.services.triggers.scheduler import KEEP_FIRES, prune_fires
from tests.support.dsl import auth, graph_dsl, make_app
from tests.support.triggers import finished_runs, fires_of, runs_of, trigger_row

EVERY_2S = "* * * * * */2"


def _tick(**data: Any) -> dict[str, Any]:
    return {"id": "tick", "type": "trigger-schedule", "title": "Every tick", **data}


def schedule_app(tick: dict[str, Any]) -> str:
    end = {
        "id": "end",
        "type": "end",
        "outputs": [
            {"variable": "at", "value_selector": ["tick", "current_time"]},
            {"variable": "user", "value_selector": ["tick", "sys.user_id"]},
        ],
    }
    return graph_dsl("workflow", [tick, end], [("tick", "end")], name="Ticking")


START_ONLY = graph_dsl(
    "workflow", [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}], [("start", "end")]
)


async def _stop(app_id: str) -> None:
    """Drop the schedule (an update without its node) and let its runs end."""
    await update_app(app_id, START_ONLY)
    await asyncio.sleep(0.5)
    runs = await runs_of(app_id)
    await finished_runs(app_id, len(runs))


async def test_a_schedule_fires_runs_on_its_ticks(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(
        schedule_app(_tick(mode="cron", cron_expression=EVERY_2S, timezone="Asia/Tokyo"))
    )
    runs = await finished_runs(app_id, 2, timeout=15)
    await _stop(app_id)
    runs = await runs_of(app_id)
    fires = await fires_of(app_id)
    assert len(fires) == len(runs) >= 2
    assert {f.workflow_run_id for f in fires} == {r.id for r in runs}
    ticks = [f.fire_at for f in fires]
    assert all(b - a == timedelta(seconds=2) for a, b in zip(ticks, ticks[1:], strict=False))
    assert all(t.second % 2 == 0 and t.microsecond == 0 for t in ticks)
    for run in runs:
        assert run.triggered_from == "schedule" and run.status == "succeeded", run.error
        assert run.outputs["user"] == "DEFAULT-USER"
        fired = datetime.fromisoformat(run.outputs["at"])
        assert fired.utcoffset() == timedelta(hours=9)  # the node's timezone
        assert run.inputs == {"current_time": run.outputs["at"]}
    detail = await client.get(f"/v1/workflows/run/{runs[0].id}", headers=auth(key))
    assert detail.status_code == 200 and detail.json()["status"] == "succeeded"
    await asyncio.sleep(2.5)
    assert len(await runs_of(app_id)) == len(runs)  # a dropped schedule stays quiet


async def test_a_late_schedule_fires_once_and_moves_on(client: httpx.AsyncClient) -> None:
    app_id, _ = await make_app(schedule_app(_tick(mode="cron", cron_expression="0 0 1 1 *")))
    long_ago = utcnow() - timedelta(hours=3)
    async with session_scope() as session:  # as if every replica had been down since
        await session.exec(
            update(AppTrigger)
            .where(col(AppTrigger.app_id) == app_id)
            .values(next_run_at=long_ago.replace(microsecond=0))
        )
    [run] = await finished_runs(app_id, 1, timeout=10)
    assert run.triggered_from == "schedule"
    await asyncio.sleep(1.5)
    assert len(await runs_of(app_id)) == 1
    row = await trigger_row(app_id, "tick")
    assert row.next_run_at is not None and row.next_run_at > utcnow()
    assert row.next_run_at.month == 1 and row.next_run_at.day == 1


async def test_visual_schedules_and_their_listing(client: httpx.AsyncClient) -> None:
    tick = _tick(
        mode="visual",
        frequency="weekly",
        visual_config={"time": "9:30 AM", "weekdays": ["fri", "mon"]},
        timezone="America/New_York",
    )
    app_id, _ = await make_app(schedule_app(tick))
    row = await trigger_row(app_id, "tick")
    assert (row.cron_expression, row.timezone) == ("30 9 * * 1,5", "America/New_York")
    assert row.next_run_at is not None
    local = row.next_run_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute, local.weekday() in (0, 4)) == (9, 30, True)
    imported = await import_app(schedule_app(tick))
    [info] = (await app_triggers(get_settings(), [imported.app]))[imported.app.id]
    assert info.describe().startswith(
        "schedule  Every tick (tick)  30 9 * * 1,5 (America/New_York), next "
    )
    # The same schedule in a new version keeps its next fire time; a new one starts anew.
    before = row.next_run_at
    await update_app(app_id, schedule_app({**tick, "title": "Renamed"}))
    assert (await trigger_row(app_id, "tick")).next_run_at == before
    await update_app(
        app_id, schedule_app({**tick, "visual_config": {"time": "9:30 PM", "weekdays": ["fri"]}})
    )
    moved = await trigger_row(app_id, "tick")
    assert moved.cron_expression == "30 21 * * 5" and moved.next_run_at != before


async def test_an_unreadable_schedule_is_reported_and_never_fires(
    client: httpx.AsyncClient,
) -> None:
    tick = _tick(mode="cron", cron_expression=EVERY_2S, timezone="Mars/Base")
    imported = await import_app(schedule_app(tick))
    assert imported.problems == (
        "never fires: node tick (Every tick): its schedule cannot be read: "
        "Invalid timezone: 'Mars/Base'",
    )
    row = await trigger_row(imported.app.id, "tick")
    assert row.active and row.next_run_at is None
    [info] = (await app_triggers(get_settings(), [imported.app]))[imported.app.id]
    assert "never fires" in info.describe()
    await asyncio.sleep(2.5)
    assert await runs_of(imported.app.id) == []


async def test_a_tick_of_an_app_that_cannot_run_is_spent_without_a_run(
    client: httpx.AsyncClient,
) -> None:
    loop = [
        _tick(mode="cron", cron_expression=EVERY_2S),
        {"id": "a", "type": "variable-aggregator", "variables": [["tick", "current_time"]]},
        {"id": "b", "type": "variable-aggregator", "variables": [["a", "output"]]},
    ]
    text = graph_dsl("workflow", loop, [("tick", "a"), ("a", "b"), ("b", "a")])
    imported = await import_app(text)
    assert any("cycle" in p for p in imported.problems)
    app_id = imported.app.id
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not await fires_of(app_id) and datetime.now(UTC) < deadline:
        await asyncio.sleep(0.2)
    await update_app(app_id, START_ONLY)
    fires = await fires_of(app_id)
    assert fires and all(f.workflow_run_id is None for f in fires)
    assert await runs_of(app_id) == []


async def test_triggers_in_an_advanced_chat_app_never_fire(client: httpx.AsyncClient) -> None:
    nodes = [
        {"id": "start", "type": "start"},
        _tick(mode="cron", cron_expression=EVERY_2S),
        {"id": "answer", "type": "answer", "answer": "hi"},
    ]
    text = graph_dsl("advanced-chat", nodes, [("start", "answer"), ("tick", "answer")])
    imported = await import_app(text)
    assert imported.problems == (
        "never fires: node tick (Every tick): triggers start workflow apps only, not "
        "advanced-chat apps",
    )
    assert await app_triggers(get_settings(), [imported.app]) == {}
    body = {"inputs": {}, "query": "hello", "user": "u", "response_mode": "blocking"}
    key = imported.api_key or ""
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200 and resp.json()["answer"] == "hi"


async def test_old_fire_records_are_pruned(client: httpx.AsyncClient) -> None:
    app_id, _ = await make_app(schedule_app(_tick(mode="cron", cron_expression="0 0 1 1 *")))
    now = utcnow().replace(microsecond=0)
    async with session_scope() as session:
        for age in (timedelta(days=2), timedelta(hours=1)):
            session.add(TriggerFire(app_id=app_id, node_id="tick", fire_at=now - age))
    await prune_fires(now - KEEP_FIRES)
    assert [f.fire_at for f in await fires_of(app_id)] == [now - timedelta(hours=1)]
