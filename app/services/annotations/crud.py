"""Annotation CRUD for the calling app (dify-api-behavior.md §10.1). Writes take the app's
annotation-setting row lock, so they serialise with an enable/disable commit; when reply
is enabled the annotation's question is (re-)embedded before the request returns."""

import logging
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import page_offset, read_scope, session_scope
from app.core.errors import NotFound
from app.gateway.types import GatewayError
from app.models import (
    AnnotationEmbedding,
    AppAnnotationHitHistory,
    AppAnnotationSetting,
    Message,
    MessageAnnotation,
)
from app.models.base import utcnow
from app.runtime import Runtime
from app.schemas.annotation import AnnotationItem, AnnotationPage
from app.services.annotations.toggle_jobs import OWNER_ACCOUNT_ID, index_annotation
from app.services.annotations.vector_index import bump_version

logger = logging.getLogger("kiln.annotations")

MAX_PAGE_SIZE = 100
NOT_FOUND = "Annotation not found."


async def _lock_setting(session: AsyncSession, app_id: str) -> AppAnnotationSetting | None:
    statement = (
        select(AppAnnotationSetting).where(AppAnnotationSetting.app_id == app_id).with_for_update()
    )
    return (await session.exec(statement)).first()


async def list_page(
    app_id: str, page: int, limit: int, keyword: str, shown_page: int | None = None
) -> AnnotationPage:
    """`limit` as asked is echoed and drives `has_more`; at most 100 rows are read."""
    size = min(limit, MAX_PAGE_SIZE) if limit > 0 else 20
    where: list[Any] = [MessageAnnotation.app_id == app_id]
    if keyword:
        # A plain substring, as Dify escapes it: `%` and `_` match only themselves.
        escaped = keyword.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        where.append(
            or_(
                func.lower(MessageAnnotation.question).like(pattern, escape="\\"),
                func.lower(MessageAnnotation.content).like(pattern, escape="\\"),
            )
        )
    async with read_scope() as session:
        total = (
            await session.exec(select(func.count()).select_from(MessageAnnotation).where(*where))
        ).one()
        statement = (
            select(MessageAnnotation)
            .where(*where)
            .order_by(col(MessageAnnotation.created_at).desc(), col(MessageAnnotation.id).desc())
            .offset(page_offset(page, size))
            .limit(size)
        )
        rows = list((await session.exec(statement)).all())
    return AnnotationPage(
        data=[AnnotationItem.of(row) for row in rows],
        has_more=len(rows) == limit,  # Dify's rule: true whenever the page is exactly full
        limit=limit,
        total=int(total),
        page=page if shown_page is None else shown_page,
    )


async def _reindex(runtime: Runtime, app_id: str, annotation_id: str) -> None:
    try:
        await index_annotation(runtime, app_id, annotation_id)
    except GatewayError as exc:  # the model's or the operator's, not Kiln's: no traceback
        logger.warning("could not index annotation %s: %s", annotation_id, exc)
    except Exception:  # the annotation is stored; the next enable re-embeds everything
        logger.warning("could not index annotation %s", annotation_id, exc_info=True)


async def create(runtime: Runtime, app_id: str, question: str, answer: str) -> AnnotationItem:
    annotation = MessageAnnotation(
        app_id=app_id, question=question, content=answer, account_id=OWNER_ACCOUNT_ID
    )
    async with session_scope() as session:
        await _lock_setting(session, app_id)
        session.add(annotation)
    await _reindex(runtime, app_id, annotation.id)
    return AnnotationItem.of(annotation)


async def update_one(
    runtime: Runtime, app_id: str, annotation_id: str, question: str, answer: str
) -> AnnotationItem:
    async with session_scope() as session:
        await _lock_setting(session, app_id)
        annotation = await session.get(MessageAnnotation, annotation_id)
        if annotation is None or annotation.app_id != app_id:
            raise NotFound(NOT_FOUND)
        annotation.question = question
        annotation.content = answer
        annotation.updated_at = utcnow()
        session.add(annotation)
    await _reindex(runtime, app_id, annotation_id)
    return AnnotationItem.of(annotation)


async def delete_one(app_id: str, annotation_id: str) -> None:
    async with session_scope() as session:
        setting = await _lock_setting(session, app_id)
        annotation = await session.get(MessageAnnotation, annotation_id)
        if annotation is None or annotation.app_id != app_id:
            raise NotFound(NOT_FOUND)
        for table in (AppAnnotationHitHistory, AnnotationEmbedding):
            await session.exec(delete(table).where(col(table.annotation_id) == annotation_id))
        await session.delete(annotation)
        if setting is not None:
            bump_version(setting)
            session.add(setting)


async def record_hit(
    app_id: str, annotation_id: str, query: str, score: float, message_id: str
) -> MessageAnnotation | None:
    """Count the hit and keep its history; None if the annotation is gone."""
    async with session_scope() as session:
        annotation = await session.get(MessageAnnotation, annotation_id)
        if annotation is None or annotation.app_id != app_id:
            return None
        await session.exec(
            update(MessageAnnotation)
            .where(col(MessageAnnotation.id) == annotation_id)
            .values(hit_count=col(MessageAnnotation.hit_count) + 1)
        )
        message = await session.get(Message, message_id)
        session.add(
            AppAnnotationHitHistory(
                app_id=app_id,
                annotation_id=annotation_id,
                source="api",
                question=query,
                account_id=annotation.account_id,
                score=score,
                message_id=message_id,
                annotation_question=annotation.question,
                annotation_content=annotation.content,
                from_end_user_id=message.from_end_user_id if message is not None else None,
            )
        )
    return annotation
