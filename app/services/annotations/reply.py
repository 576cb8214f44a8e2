"""Annotation reply at chat time (dify-api-behavior.md §10.3): when the app's annotation
reply is enabled and the query's nearest annotation scores at least the threshold, its
answer is the reply — streamed as a direct answer, zero usage, no model call."""

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from app.core.db import read_scope, session_scope
from app.engine.classic_runner import ClassicJob, RunResult
from app.engine.direct_answer import stream_direct_answer
from app.engine.events import MessageStreamContext
from app.engine.run_context import RunContext
from app.gateway.pricing import empty_usage
from app.gateway.types import GatewayError
from app.models import AppAnnotationSetting
from app.runtime import Runtime
from app.services.annotations.crud import record_hit
from app.services.annotations.vector_index import nearest

logger = logging.getLogger("kiln.annotations")

SCORE_EPSILON = 1e-6  # float32 vectors: an identical question scores 0.9999999…
ACCOUNT_NAME = "Dify user"  # Dify's name when the annotation's account is unknown


@dataclass(slots=True)
class AnnotationMatch:
    annotation_id: str
    score: float


async def reply_feature(app_id: str) -> dict[str, Any]:
    """`annotation_reply` as `/parameters` shows it: Dify derives it from the app's reply
    setting, not from the DSL."""
    async with read_scope() as session:
        setting = await session.get(AppAnnotationSetting, app_id)
    if setting is None or not setting.enabled:
        return {"enabled": False}
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kiln:annotation-setting:{app_id}")),
        "enabled": True,
        "score_threshold": setting.score_threshold,
        "embedding_model": {
            "embedding_provider_name": setting.embedding_provider_name,
            "embedding_model_name": setting.embedding_model_name,
        },
    }


async def find_match(runtime: Runtime, app_id: str, query: str) -> AnnotationMatch | None:
    async with session_scope(read_only=True) as session:
        setting = await session.get(AppAnnotationSetting, app_id)
    if setting is None or not setting.enabled:
        return None
    provider, model = setting.embedding_provider_name, setting.embedding_model_name
    [vector] = await runtime.gateway.embed(provider, model, [query])
    found = await nearest(setting, vector)
    if found is None or found[1] + SCORE_EPSILON < setting.score_threshold:
        return None
    return AnnotationMatch(*found)


@dataclass(slots=True)
class AnnotationAnswer:
    text: str
    metadata: dict[str, Any]  # `annotation_reply` for message_end
    stopped: bool  # a stop request cut the streaming short


async def annotation_answer(
    runtime: Runtime, app_id: str, query: str, ctx: MessageStreamContext, run: RunContext
) -> AnnotationAnswer | None:
    """Stream the matching annotation's answer, or None to let the app answer. Chat
    apps with a query only; any failure of the lookup falls through (Dify)."""
    if ctx.conversation_id is None or not query:
        return None
    try:
        match = await find_match(runtime, app_id, query)
        if match is None:
            return None
        annotation = await record_hit(
            app_id, match.annotation_id, query, match.score, ctx.message_id
        )
    except GatewayError as exc:  # e.g. no credentials for the embedding model: no traceback
        logger.warning("annotation reply lookup failed for app %s: %s", app_id, exc)
        return None
    except Exception:
        logger.warning("annotation reply lookup failed for app %s", app_id, exc_info=True)
        return None
    if annotation is None:
        return None
    stopped = await stream_direct_answer(annotation.content, ctx, run)
    account = {"id": annotation.account_id, "name": ACCOUNT_NAME}
    metadata = {"annotation_reply": {"id": annotation.id, "account": account}}
    return AnnotationAnswer(annotation.content, metadata, stopped)


async def answer_from_annotation(
    runtime: Runtime,
    app_id: str,
    job: ClassicJob,
    ctx: MessageStreamContext,
    run: RunContext,
) -> RunResult | None:
    """A classic app's annotation reply as its run's result (zero usage)."""
    found = await annotation_answer(runtime, app_id, job.query, ctx, run)
    if found is None:
        return None
    model = job.config.model
    result = RunResult(found.text, empty_usage(), model.provider, model.name, found.stopped)
    result.metadata = found.metadata
    return result
