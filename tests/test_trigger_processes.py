"""Schedule triggers across real `kiln serve` replicas sharing the database and Redis:
every tick fires exactly once, whichever replica claims it; killing one replica loses no
tick; a replica with KILN_SCHEDULER_ENABLED=false fires none. (Ticks two seconds apart:
the suite allows a seconds field, KILN_SCHEDULER_CRON_SECONDS.)"""

import asyncio
import os
from datetime import timedelta

from app.models.base import utcnow
from app.services.apps.importer import update_app
from tests.api.test_triggers_schedule import EVERY_2S, START_ONLY, _tick, schedule_app
from tests.support.dsl import make_app
from tests.support.processes import REPLICA_REDIS, KilnProcess
from tests.support.triggers import finished_runs, fires_of, runs_of

TICK = timedelta(seconds=2)


def _pid(worker_id: str | None) -> int:
    """The process id inside a worker id (`host-pid-random`)."""
    assert worker_id is not None
    return int(worker_id.rsplit("-", 2)[-2])


async def test_each_tick_fires_once_across_replicas_and_survives_a_kill(database: str) -> None:
    replicas = [KilnProcess(KILN_REDIS_URL=REPLICA_REDIS) for _ in range(3)]
    quiet = KilnProcess(KILN_REDIS_URL=REPLICA_REDIS, KILN_SCHEDULER_ENABLED="false")
    every = [*replicas, quiet]
    app_id: str | None = None
    try:
        await asyncio.gather(*(replica.astart() for replica in every))
        # Imported once every replica is up: from its first tick on, none may be missed.
        app_id, _ = await make_app(schedule_app(_tick(mode="cron", cron_expression=EVERY_2S)))
        await asyncio.sleep(8)
        # The replica that fired last dies: the others must take over. (The suite's own
        # server, when it runs, takes part too.)
        firers = [_pid(fire.worker_id) for fire in await fires_of(app_id)]
        by_pid = {replica.pid: replica for replica in replicas}
        victim = next((by_pid[p] for p in reversed(firers) if p in by_pid), replicas[0])
        victim_pid = victim.pid
        await asyncio.to_thread(victim.kill)  # no shutdown work at all
        killed_at = utcnow()
        await asyncio.sleep(8)
    finally:
        if app_id is not None:
            await update_app(app_id, START_ONLY)  # the schedule stops with the next look
            await asyncio.sleep(1.5)
        for replica in every:
            replica.terminate()
        await asyncio.gather(*(asyncio.to_thread(replica.wait) for replica in every))
    assert app_id is not None
    fires = await fires_of(app_id)
    ticks = [fire.fire_at for fire in fires]
    assert len(ticks) >= 6, ticks
    assert all(b - a == TICK for a, b in zip(ticks, ticks[1:], strict=False)), ticks
    assert any(tick > killed_at + TICK for tick in ticks)  # the others went on
    pids = {_pid(fire.worker_id) for fire in fires}
    assert quiet.pid not in pids
    assert pids <= {replica.pid for replica in replicas} | {os.getpid()}
    assert all(_pid(f.worker_id) != victim_pid for f in fires if f.fire_at > killed_at + TICK)
    runs = await runs_of(app_id)
    assert sorted(r.id for r in runs) == sorted(str(f.workflow_run_id) for f in fires)
    assert all(r.triggered_from == "schedule" for r in runs)
    # A run the killed replica had in hand is closed by the survivors' reaper; the rest ran.
    runs = await finished_runs(app_id, len(runs), timeout=30)
    assert sum(r.status == "succeeded" for r in runs) >= len(runs) - 1
