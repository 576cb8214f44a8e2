"""Enable / disable annotation reply as asynchronous jobs (dify-api-behavior.md §10.2),
and keeping one annotation's vector current.

A request for an action already running for the app gets that job back, `processing`
(Dify). Otherwise it claims the app's setting row (`latest_job_id`): a job commits only
while it is still the latest, so a disable sent during an enable overrides it (and an
enable during a disable the other way round). An enable embeds every question, then, holding the row
lock, re-reads the annotations and stores only vectors whose question is unchanged;
annotations edited meanwhile are embedded again after the commit.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

from redis.exceptions import RedisError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import session_scope
from app.core.errors import InvalidParam
from app.gateway.types import GatewayError
from app.models import AppAnnotationSetting, MessageAnnotation
from app.models.base import utcnow
from app.runtime import Runtime
from app.schemas.annotation import ReplyJob, ReplyJobStatus, ReplySettingsPayload
from app.services.annotations.vector_index import IndexItem, delete_all, replace_all, upsert
from app.tasks import annotation_jobs as jobs

logger = logging.getLogger("kiln.annotations")

ACTIONS = ("enable", "disable")
_OTHER = {"enable": "disable", "disable": "enable"}
# Kiln has no accounts: annotations made through the Service API belong to the workspace
# owner, a fixed id (its name reads as Dify's fallback, "Dify user").
OWNER_ACCOUNT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "kiln:workspace-owner"))
EMBED_ROUNDS = 3  # re-embed passes for questions edited while an enable runs
SUPERSEDED = "Superseded by a later annotation reply request."


class Superseded(Exception):
    pass


async def _lock(session: AsyncSession, app_id: str) -> AppAnnotationSetting | None:
    statement = (
        select(AppAnnotationSetting).where(AppAnnotationSetting.app_id == app_id).with_for_update()
    )
    return (await session.exec(statement)).first()


async def _claim(app_id: str, job_id: str) -> None:
    async with session_scope() as session:
        setting = await _lock(session, app_id) or AppAnnotationSetting(app_id=app_id)
        setting.latest_job_id = job_id
        setting.updated_at = utcnow()
        session.add(setting)


async def start(
    runtime: Runtime, app_id: str, action: str, payload: ReplySettingsPayload
) -> ReplyJob:
    if action not in ACTIONS:
        raise InvalidParam("Unsupported annotation reply action")
    job_id = str(uuid.uuid4())
    running = await runtime.annotation_jobs.claim(action, app_id, job_id)
    if running is not None:
        return ReplyJob(job_id=running, job_status=jobs.PROCESSING)
    try:
        await runtime.annotation_jobs.forget(_OTHER[action], app_id)  # superseded by this job
        await _claim(app_id, job_id)
        await runtime.annotation_jobs.set_status(action, job_id, jobs.WAITING)
    except BaseException:
        await runtime.annotation_jobs.release(action, app_id, job_id)
        raise
    work = (
        _enable(runtime, app_id, job_id, payload)
        if action == "enable"
        else _disable(app_id, job_id)
    )
    task = asyncio.create_task(
        _run(runtime, action, app_id, job_id, work),
        name=f"annotation-{action}-{job_id}",
    )
    runtime.track(task)
    return ReplyJob(job_id=job_id, job_status=jobs.WAITING)


async def status(runtime: Runtime, action: str, job_id: str) -> ReplyJobStatus:
    found = await runtime.annotation_jobs.get_status(action, job_id)
    if found is None:
        raise InvalidParam("The job does not exist.")
    return ReplyJobStatus(job_id=job_id, job_status=found.status, error_msg=found.error)


async def _keep_alive(runtime: Runtime, action: str, app_id: str, job_id: str) -> None:
    """Renew the job's lease and its claim until cancelled (when the job ends)."""
    while True:
        await asyncio.sleep(runtime.settings.annotation_job_lease_ttl / 3)
        try:
            await runtime.annotation_jobs.renew(action, app_id, job_id)
        except RedisError:  # a blip; the next renewal may come before the lease lapses
            logger.warning("could not renew annotation job %s", job_id)


async def _run(
    runtime: Runtime, action: str, app_id: str, job_id: str, work: Coroutine[Any, Any, None]
) -> None:
    keeper = asyncio.create_task(_keep_alive(runtime, action, app_id, job_id))
    status, error = jobs.COMPLETED, ""
    try:
        await runtime.annotation_jobs.set_status(action, job_id, jobs.PROCESSING)
        await work
    except Superseded:
        status, error = jobs.ERROR, SUPERSEDED
    except GatewayError as exc:
        status, error = jobs.ERROR, str(exc)
    except Exception as exc:
        logger.exception("annotation %s job %s failed", action, job_id)
        status, error = jobs.ERROR, type(exc).__name__
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    try:
        await runtime.annotation_jobs.set_status(action, job_id, status, error)
        await runtime.annotation_jobs.release(action, app_id, job_id)
    except RedisError:  # the lease lapses, so readers see the job as interrupted
        logger.warning("could not record the end of annotation job %s", job_id, exc_info=True)


async def _questions(session: AsyncSession, app_id: str) -> dict[str, str]:
    # Oldest first, so embedding batches are stable from run to run.
    statement = (
        select(MessageAnnotation.id, MessageAnnotation.question)
        .where(MessageAnnotation.app_id == app_id)
        .order_by(col(MessageAnnotation.created_at), col(MessageAnnotation.id))
    )
    return {row[0]: row[1] for row in (await session.exec(statement)).all()}


async def _enable(
    runtime: Runtime, app_id: str, job_id: str, payload: ReplySettingsPayload
) -> None:
    provider, model = payload.embedding_provider_name, payload.embedding_model_name
    embedded: dict[str, tuple[str, list[float]]] = {}
    for _ in range(EMBED_ROUNDS):
        async with session_scope(read_only=True) as session:
            setting = await session.get(AppAnnotationSetting, app_id)
            if setting is None or setting.latest_job_id != job_id:
                raise Superseded()  # stop embedding for a job that cannot commit
            current = await _questions(session, app_id)
        todo = [(i, q) for i, q in current.items() if embedded.get(i, ("", []))[0] != q]
        if not todo:
            break
        vectors = await runtime.gateway.embed(provider, model, [q for _, q in todo])
        embedded.update({i: (q, v) for (i, q), v in zip(todo, vectors, strict=True)})
    async with session_scope() as session:
        setting = await _lock(session, app_id)
        if setting is None or setting.latest_job_id != job_id:
            raise Superseded()
        current = await _questions(session, app_id)
        items = [
            IndexItem(i, q, embedded[i][1])
            for i, q in current.items()
            if i in embedded and embedded[i][0] == q
        ]
        leftovers = [i for i in current if i not in {item.annotation_id for item in items}]
        setting.enabled = True
        setting.score_threshold = payload.score_threshold
        setting.embedding_provider_name = provider
        setting.embedding_model_name = model
        await replace_all(session, setting, items)
    for annotation_id in leftovers:
        await index_annotation(runtime, app_id, annotation_id)


async def _disable(app_id: str, job_id: str) -> None:
    async with session_scope() as session:
        setting = await _lock(session, app_id)
        if setting is None or setting.latest_job_id != job_id:
            raise Superseded()
        setting.enabled = False
        await delete_all(session, setting)


async def index_annotation(runtime: Runtime, app_id: str, annotation_id: str) -> None:
    """Embed one annotation's question if reply is enabled; store it only if neither the
    question nor the embedding model changed meanwhile (the newer write indexes then)."""
    async with session_scope(read_only=True) as session:
        setting = await session.get(AppAnnotationSetting, app_id)
        annotation = await session.get(MessageAnnotation, annotation_id)
        if setting is None or not setting.enabled or annotation is None:
            return
        provider, model = setting.embedding_provider_name, setting.embedding_model_name
        question = annotation.question
    [vector] = await runtime.gateway.embed(provider, model, [question])
    async with session_scope() as session:
        setting = await _lock(session, app_id)
        annotation = await session.get(MessageAnnotation, annotation_id)
        if setting is None or not setting.enabled or annotation is None:
            return
        if (setting.embedding_provider_name, setting.embedding_model_name) != (provider, model):
            return
        if annotation.question != question:
            return
        await upsert(session, setting, IndexItem(annotation_id, question, vector))
