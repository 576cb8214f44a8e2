"""Process-wide parts built at start-up: model gateway, task registry, limiter, Redis."""

import asyncio
import contextlib
import os
import socket
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
from app.tasks.limiter import ActiveRequestLimiter, InProcessLimiter, RedisLimiter
from app.tasks.registry import InProcessRegistry, RedisRegistry, TaskRegistry


@dataclass
class Runtime:
    settings: Settings
    gateway: ModelGateway
    registry: TaskRegistry
    limiter: ActiveRequestLimiter
    annotation_jobs: AnnotationJobStore
    redis: Redis | None = None
    sandbox: CodeSandbox | None = None  # code and template nodes (app/sandbox)
    http_caller: HttpCaller | None = None  # http-request nodes, through the SSRF guard
    tools: ToolBox | None = None  # tool and agent nodes (app/integrations/tools)
    generations: set[asyncio.Task[None]] = field(default_factory=set)
    draining: bool = False
    # Knowledge bases of the integrations file (knowledge-retrieval, classic datasets);
    # last, so positional construction of the fields above is unaffected.
    knowledge: KnowledgeService | None = None

    def track(self, task: asyncio.Task[None]) -> None:
        """Keep a strong reference to a detached generation until it ends."""
        self.generations.add(task)
        task.add_done_callback(self.generations.discard)

    async def drain(self, timeout: float) -> None:
        """Let in-flight generations finish (and persist) before the process exits."""
        self.draining = True
        pending = set(self.generations)
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        for task in self.generations:
            task.cancel()
        if self.generations:
            await asyncio.wait(set(self.generations), timeout=5)

    async def close(self) -> None:
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
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        registry: TaskRegistry = RedisRegistry(
            redis, worker_id, settings.task_ttl, settings.stop_flag_ttl
        )
        limiter: ActiveRequestLimiter = RedisLimiter(redis)
        annotation_jobs: AnnotationJobStore = RedisAnnotationJobs(
            redis, settings.annotation_job_lease_ttl
        )
    else:
        redis = None
        registry = InProcessRegistry(worker_id)
        limiter = InProcessLimiter()
        annotation_jobs = InProcessAnnotationJobs()
    await registry.start()
    # Workers start on the first code or template node, not here.
    sandbox = build_sandbox(settings)
    http_caller = GuardedHttpCaller.from_settings(settings)
    tools = ToolBox.from_settings(settings, gateway)
    runtime = Runtime(
        settings, gateway, registry, limiter, annotation_jobs, redis, sandbox, http_caller, tools
    )
    runtime.knowledge = knowledge
    return runtime
