"""Where annotation vectors are searched. On PostgreSQL with pgvector (the `pgvector` test
configuration) every indexed annotation has its `vector` column kept current through
enable, edit and delete, and matches come from the database; elsewhere that column does
not exist and Kiln searches its own float32 copy in Python."""

import httpx
import pytest
from sqlalchemy import text

from app.core.db import session_scope
from app.services.annotations import vector_index as annotation_index
from tests.api.test_annotation_reply import _app, _chat, _enable
from tests.conftest import TEST_DATABASE
from tests.support.dsl import auth
from tests.support.fake_upstream import FakeUpstream

PGVECTOR = TEST_DATABASE == "pgvector"
STORAGE_QUERY = (
    "SELECT attstorage::text FROM pg_attribute "
    "WHERE attrelid = 'annotation_embeddings'::regclass AND attname = 'embedding'"
)
FALLBACK_ANSWER = "Hello word word word word"  # the fake upstream's model answer


async def _vectors(ids: list[str]) -> dict[str, int | None]:
    """annotation id -> dimensions of its pgvector column (None where unset)."""
    query = text(
        "SELECT annotation_id, vector_dims(embedding) FROM annotation_embeddings "
        "WHERE annotation_id = ANY(:ids)"
    )
    async with session_scope() as session:
        rows = (await session.exec(query, params={"ids": ids})).all()  # type: ignore[call-overload]
    return {row[0]: row[1] for row in rows}


async def _has_vector_column() -> bool:
    async with session_scope() as session:
        found = await session.exec(text(annotation_index.PG_COLUMN_CHECK))  # type: ignore[call-overload]
        return found.first() is not None


async def test_search_runs_where_the_database_allows(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    assert await annotation_index.pgvector_available() is PGVECTOR
    if TEST_DATABASE.startswith("postgresql"):
        assert not await _has_vector_column()  # the machine's PostgreSQL has no pgvector


@pytest.mark.skipif(not PGVECTOR, reason="needs KILN_TEST_DATABASE=pgvector")
async def test_pgvector_column_follows_enable_edit_and_delete(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    key, ids = await _app(client, ("opening hours", "9 to 5."), ("parking spaces", "Plenty."))
    await _enable(client, key, 0.99)
    assert await _vectors(ids) == {ids[0]: 256, ids[1]: 256}
    async with session_scope() as session:
        storage = await session.exec(text(STORAGE_QUERY))  # type: ignore[call-overload]
        assert storage.scalar_one() == "m"  # kept in the row (migration 0004)

    assert (await _chat(client, key, "opening hours"))[0] == "9 to 5."
    resp = await client.put(
        f"/v1/apps/annotations/{ids[0]}",
        json={"question": "pets allowed", "answer": "Yes."},
        headers=auth(key),
    )
    assert resp.status_code == 200
    assert (await _chat(client, key, "pets allowed"))[0] == "Yes."
    assert (await _chat(client, key, "opening hours"))[0] == FALLBACK_ANSWER

    resp = await client.delete(f"/v1/apps/annotations/{ids[1]}", headers=auth(key))
    assert resp.status_code == 204
    assert await _vectors(ids) == {ids[0]: 256}
    assert (await _chat(client, key, "parking spaces"))[0] == FALLBACK_ANSWER
    # The database answered every match: no process-local copy of an index was loaded.
    assert annotation_index._cache == {}
