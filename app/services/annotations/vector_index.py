"""The app's annotation vectors in the database and the nearest-match search over them.

Vectors are stored as float32 arrays and compared by cosine similarity (a dot product:
every vector is L2-normalised) in plain Python, over an in-process copy of the app's
index that is reloaded whenever the setting's `index_version` changes, so every replica
sees every write. On PostgreSQL with the pgvector extension (see `pgvector_available`)
each row also gets a `vector` column and the database does the search instead.
"""

import asyncio
import uuid
from array import array
from dataclasses import dataclass
from operator import mul

from sqlalchemy import delete, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import get_engine, session_scope
from app.models import AnnotationEmbedding, AppAnnotationSetting
from app.models.base import utcnow

THREAD_THRESHOLD = 2000  # search larger indexes in a worker thread, off the event loop


@dataclass(slots=True)
class IndexItem:
    annotation_id: str
    question: str
    vector: list[float]


# A stored vector prepared for search: dense values, or (indexes, values) when mostly zero
# (the offline hashed embedding is ~85 % zeros, so its dot products get ~5x cheaper).
Prepared = array | tuple[list[int], array]


@dataclass(slots=True)
class _Loaded:
    version: str
    ids: list[str]
    vectors: list[Prepared]


_cache: dict[str, _Loaded] = {}
_pgvector: bool | None = None


def pack(vector: list[float]) -> bytes:
    return array("f", vector).tobytes()


def unpack(raw: bytes) -> array:
    values = array("f")
    values.frombytes(raw)
    return values


def prepare(values: array) -> Prepared:
    indexes = [i for i, x in enumerate(values) if x]
    if len(indexes) * 3 > len(values):
        return values
    return indexes, array("f", (values[i] for i in indexes))


async def pgvector_available() -> bool:
    """True on PostgreSQL where migration 0003 could add the pgvector `embedding` column."""
    global _pgvector
    if _pgvector is None:
        engine = get_engine()
        if engine.dialect.name != "postgresql":
            _pgvector = False
        else:
            async with engine.connect() as conn:
                found = await conn.execute(text(PG_COLUMN_CHECK))
                _pgvector = found.first() is not None
    return _pgvector


PG_COLUMN_CHECK = (
    "SELECT 1 FROM information_schema.columns WHERE table_name = 'annotation_embeddings' "
    "AND column_name = 'embedding' AND udt_name = 'vector'"
)
PG_SET_VECTOR = text(
    "UPDATE annotation_embeddings SET embedding = CAST(:vector AS vector) "
    "WHERE annotation_id = :annotation_id"
)
# Exact search over the app's rows (no ANN index: apps differ in dimensions, and an
# app's few thousand annotations scan in milliseconds; bench/RESULTS.md).
PG_NEAREST = text(
    "SELECT annotation_id, embedding <=> CAST(:vector AS vector) AS distance "
    "FROM annotation_embeddings WHERE app_id = :app_id AND dimensions = :dimensions "
    "AND embedding IS NOT NULL ORDER BY distance LIMIT 1"
)


def _pg_literal(vector: list[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def _pg_store(session: AsyncSession, items: list[IndexItem]) -> None:
    if not items or not await pgvector_available():
        return
    await session.flush()
    params = [{"vector": _pg_literal(i.vector), "annotation_id": i.annotation_id} for i in items]
    await session.exec(PG_SET_VECTOR, params=params)  # type: ignore[call-overload]


def bump_version(setting: AppAnnotationSetting) -> None:
    setting.index_version = str(uuid.uuid4())
    setting.updated_at = utcnow()


def _row(app_id: str, provider: str, model: str, item: IndexItem) -> AnnotationEmbedding:
    return AnnotationEmbedding(
        annotation_id=item.annotation_id,
        app_id=app_id,
        question=item.question,
        provider=provider,
        model=model,
        dimensions=len(item.vector),
        vector=pack(item.vector),
    )


async def replace_all(
    session: AsyncSession, setting: AppAnnotationSetting, items: list[IndexItem]
) -> None:
    """The app's whole index becomes `items` (in the caller's transaction)."""
    await delete_all(session, setting)
    provider, model = setting.embedding_provider_name, setting.embedding_model_name
    session.add_all([_row(setting.app_id, provider, model, item) for item in items])
    await _pg_store(session, items)


async def upsert(session: AsyncSession, setting: AppAnnotationSetting, item: IndexItem) -> None:
    await session.exec(
        delete(AnnotationEmbedding).where(
            col(AnnotationEmbedding.annotation_id) == item.annotation_id
        )
    )
    provider, model = setting.embedding_provider_name, setting.embedding_model_name
    session.add(_row(setting.app_id, provider, model, item))
    await _pg_store(session, [item])
    bump_version(setting)
    session.add(setting)


async def delete_all(session: AsyncSession, setting: AppAnnotationSetting) -> None:
    await session.exec(
        delete(AnnotationEmbedding).where(col(AnnotationEmbedding.app_id) == setting.app_id)
    )
    bump_version(setting)
    session.add(setting)


async def _load(app_id: str, version: str) -> _Loaded:
    cached = _cache.get(app_id)
    if cached is not None and cached.version == version:
        return cached
    async with session_scope(read_only=True) as session:
        statement = select(AnnotationEmbedding.annotation_id, AnnotationEmbedding.vector).where(
            AnnotationEmbedding.app_id == app_id
        )
        rows = (await session.exec(statement)).all()
    vectors = [prepare(unpack(row[1])) for row in rows]
    loaded = _Loaded(version, [row[0] for row in rows], vectors)
    _cache[app_id] = loaded
    return loaded


def best_match(query: array, vectors: list[Prepared]) -> tuple[int, float]:
    """Index and cosine similarity of the vector nearest `query` (all L2-normalised)."""
    best_index, best_score = -1, -2.0
    pick = query.__getitem__
    for index, vector in enumerate(vectors):
        if isinstance(vector, tuple):
            score = sum(map(mul, map(pick, vector[0]), vector[1]))
        else:
            score = sum(map(mul, query, vector))
        if score > best_score:
            best_index, best_score = index, score
    return best_index, best_score


async def nearest(
    setting: AppAnnotationSetting, query_vector: list[float]
) -> tuple[str, float] | None:
    """The closest annotation id and its cosine similarity, or None for an empty index."""
    if await pgvector_available():
        params = {
            "vector": _pg_literal(query_vector),
            "app_id": setting.app_id,
            "dimensions": len(query_vector),
        }
        async with session_scope(read_only=True) as session:
            row = (await session.exec(PG_NEAREST, params=params)).first()  # type: ignore[call-overload]
        return (str(row[0]), 1.0 - float(row[1])) if row is not None else None
    loaded = await _load(setting.app_id, setting.index_version)
    if not loaded.ids:
        return None
    query = array("f", query_vector)
    if len(loaded.ids) > THREAD_THRESHOLD:
        index, score = await asyncio.to_thread(best_match, query, loaded.vectors)
    else:
        index, score = best_match(query, loaded.vectors)
    return loaded.ids[index], score
