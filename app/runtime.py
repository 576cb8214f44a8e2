"""Process-wide parts built at start-up: model gateway, task registry, limiter, Redis,
worker heartbeat, running answers; and the plan of a graceful exit."""

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

from redis.asyncio import Redis

from app.core.config import Settings
from app.engine.workflow.env import HttpCaller, KnowledgeService
from app.gateway.gateway import ModelGateway
from app.integrations.knowledge.client import ExternalKnowledge
from app.integrations.tools.runtime import ToolBox
from app.net.http_node import GuardedHttpCaller
from app.sandbox.base import CodeSandbox, build_sandbox
from app.tasks.annotation_jobs import (
    AnnotationJobStore,
    InProcessAnnotationJobs,
    RedisAnnotationJobs,
)
from app.tasks.app_changes import AppChanges, LocalAppChanges, RedisAppChanges
from app.tasks.heartbeat import DatabaseHeartbeat, RedisHeartbeat, WorkerHeartbeat
from app.tasks.limiter import ActiveRequestLimiter, InProcessLimiter, RedisLimiter
from app.tasks.registry import InProcessRegistry, RedisRegistry, TaskRegistry
from app.tasks.running_answers import RunningAnswers

logger = logging.getLogger("kiln")

# The last part of the grace period (a quarter of it, at most this many seconds) is kept for
# stopping generations, storing them and closing their streams.
STOP_MARGIN_CAP = 5.0


@dataclass(frozen=True, slots=True)
class ShutdownPlan:
    """The steps of a graceful exit, as `time.monotonic()` instants, all within the grace
    period counted from the signal: readiness is 503 from the start; the listener closes
    after the ready delay; streams run on until `stop_at`, when every generation is stopped
    as by a stop request (its client gets the partial answer and `message_end`, the
    partial answer is stored); one still running at `cancel_at` is cancelled (its client
    gets an `error`, its text so far is stored with an error); uvicorn drops connections
    still open at `connections_deadline`; the lifespan stops waiting at `drain_deadline`;
    nothing outlives `exit_deadline`."""

    started: float
    grace: float
    ready_delay: float

    @property
    def margin(self) -> float:
        return min(STOP_MARGIN_CAP, self.grace / 4)

    @property
    def listener_close_at(self) -> float:
        return self.started + min(self.ready_delay, self.grace - self.margin)

    @property
    def stop_at(self) -> float:
        return self.started + self.grace - self.margin

    @property
    def cancel_at(self) -> float:
        return self.started + self.grace - self.margin / 2

    @property
    def connections_deadline(self) -> float:
        return self.started + self.grace - self.margin / 4

    @property
    def drain_deadline(self) -> float:
        return self.started + self.grace - self.margin / 8

    @property
    def exit_deadline(self) -> float:
        return self.started + self.grace


def _seconds_until(instant: float) -> float:
    return max(instant - time.monotonic(), 0.0)


@dataclass
class Runtime:
    settings: Settings
    gateway: ModelGateway
    registry: TaskRegistry
    limiter: ActiveRequestLimiter
    annotation_jobs: AnnotationJobStore
    heartbeat: WorkerHeartbeat
    redis: Redis | None = None
    sandbox: CodeSandbox | None = None  # code and template nodes (app/sandbox)
    http_caller: HttpCaller | None = None  # http-request nodes, through the SSRF guard
    answers: RunningAnswers = field(default_factory=RunningAnswers)
    tools: ToolBox | None = None  # tool and agent nodes (app/integrations/tools)
    generations: set[asyncio.Task[None]] = field(default_factory=set)
    draining: bool = False  # readiness answers 503 (set from the signal handler itself)
    shutdown: ShutdownPlan | None = field(default=None, init=False)
    # Set when every generation is told to stop: nothing new may call a model after it.
    stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _wind_down: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    # Knowledge bases of the integrations file (knowledge-retrieval, classic datasets);
    # last, so positional construction of the fields above is unaffected.
    knowledge: KnowledgeService | None = None
    # Announces changes to apps (CLI updates, revoked keys) to every replica.
    app_changes: AppChanges = field(default_factory=LocalAppChanges)

    def track(self, task: asyncio.Task[None]) -> None:
        """Keep a strong reference to a detached generation until it ends."""
        self.generations.add(task)
        task.add_done_callback(self.generations.discard)

    def begin_shutdown(self) -> ShutdownPlan:
        """Start the graceful exit now (once; later calls return the same plan)."""
        self.draining = True
        if self.shutdown is None:
            settings = self.settings
            self.shutdown = ShutdownPlan(
                time.monotonic(), settings.shutdown_grace_period, settings.shutdown_ready_delay
            )
            self._wind_down = asyncio.create_task(
                self._stop_in_time(self.shutdown), name="kiln-shutdown"
            )
        return self.shutdown

    async def _stop_in_time(self, plan: ShutdownPlan) -> None:
        await asyncio.sleep(_seconds_until(plan.stop_at))
        self.stop_generations()
        await asyncio.sleep(_seconds_until(plan.cancel_at))
        if self.generations:
            logger.warning("cancelling %d generation(s) still running", len(self.generations))
        for task in list(self.generations):
            task.cancel()

    def stop_generations(self) -> None:
        """Stop every generation of this process as a stop request would."""
        self.stopping.set()
        for handle in self.registry.local_tasks():
            handle.stop_requested.set()

    async def drain(self) -> None:
        """Lifespan shutdown: let generations end as the plan has them end (and persist),
        within the grace period."""
        plan = self.begin_shutdown()
        if self.generations:
            await asyncio.wait(set(self.generations), timeout=_seconds_until(plan.drain_deadline))
        for task in list(self.generations):
            task.cancel()
        if self.generations:  # cancelled ones store their text with an error
            closing_time = plan.drain_deadline + plan.margin / 16  # the rest: close()
            await asyncio.wait(set(self.generations), timeout=_seconds_until(closing_time))
        if self._wind_down is not None:
            self._wind_down.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._wind_down

    async def close(self) -> None:
        await self.app_changes.close()
        await self.heartbeat.close()
        await self.registry.close()
        if self.sandbox is not None:
            with contextlib.suppress(Exception):
                await self.sandbox.aclose()
        await self.gateway.aclose()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()


def _worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


async def build_runtime(settings: Settings) -> Runtime:
    # The integrations file is read first: a bad one fails start-up, naming the field.
    knowledge = ExternalKnowledge.from_settings(settings)
    gateway = ModelGateway(settings)
    worker_id = _worker_id()
    interval, timeout = settings.heartbeat_interval, settings.heartbeat_timeout
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        registry: TaskRegistry = RedisRegistry(
            redis, worker_id, settings.task_ttl, settings.stop_flag_ttl
        )
        limiter: ActiveRequestLimiter = RedisLimiter(redis)
        annotation_jobs: AnnotationJobStore = RedisAnnotationJobs(
            redis, settings.annotation_job_lease_ttl
        )
        heartbeat: WorkerHeartbeat = RedisHeartbeat(redis, worker_id, interval, timeout)
        app_changes: AppChanges = RedisAppChanges(redis)
    else:
        redis = None
        registry = InProcessRegistry(worker_id)
        limiter = InProcessLimiter()
        annotation_jobs = InProcessAnnotationJobs()
        heartbeat = DatabaseHeartbeat(worker_id, interval, timeout)
        app_changes = LocalAppChanges()
    await registry.start()
    await heartbeat.start()
    # Workers start on the first code or template node, not here.
    sandbox = build_sandbox(settings)
    http_caller = GuardedHttpCaller.from_settings(settings)
    # The integrations file is read here: a bad file fails start-up naming the field.
    tools = ToolBox.from_settings(settings, gateway)
    return Runtime(
        settings,
        gateway,
        registry,
        limiter,
        annotation_jobs,
        heartbeat,
        redis,
        sandbox,
        http_caller,
        tools=tools,
        knowledge=knowledge,
        app_changes=app_changes,
    )
