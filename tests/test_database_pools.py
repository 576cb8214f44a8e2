"""Connection pools (app/core/db.py): reads keep answering while every connection of the
main pool is taken; a request that cannot get a connection within
KILN_DATABASE_POOL_TIMEOUT answers Dify's 503 body instead of hanging; the read pool
refuses writes. And the per-process cache of API keys (app/services/apps/auth.py)."""

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import select

from app.core.config import get_settings
from app.core.db import dispose_engine, read_scope, session_scope
from app.models import ApiToken, App, EndUser, Message
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.processes import KilnProcess
from tests.support.sse import parse_frames

# One main-pool connection, no overflow, short waits (for a connection; on SQLite for the
# turn to write and for the file lock): easy to exhaust on purpose.
TINY_MAIN_POOL = {
    "KILN_DATABASE_POOL_SIZE": "1",
    "KILN_DATABASE_MAX_OVERFLOW": "0",
    "KILN_DATABASE_POOL_TIMEOUT": "1",
    "KILN_SQLITE_BUSY_TIMEOUT": "1",
}


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _writes_blocked(database: str, conversation_id: str) -> AsyncIterator[None]:
    """Make writes to the conversation wait, without blocking reads: SQLite's write lock
    (WAL readers go on), or a row lock on PostgreSQL (plain SELECTs go on)."""
    if database.startswith("sqlite"):
        holder = sqlite3.connect(database.split(":///", 1)[1], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_async_engine(database, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("SELECT id FROM conversations WHERE id = :id FOR UPDATE"),
                {"id": conversation_id},
            )
            yield
    finally:
        await engine.dispose()


async def _conversation(http: httpx.AsyncClient, url: str, key: str, user: str) -> str:
    body = {
        "inputs": {},
        "query": "hello",
        "response_mode": "blocking",
        "user": user,
        "auto_generate_name": False,
    }
    answer = await http.post(f"{url}/v1/chat-messages", json=body, headers=auth(key))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["conversation_id"])


async def test_reads_answer_and_waiting_writes_get_503_while_the_main_pool_is_taken(
    database: str,
) -> None:
    app_id, key = await make_app(chat_dsl())
    with KilnProcess(**TINY_MAIN_POOL) as replica:
        async with httpx.AsyncClient(timeout=60) as http:
            conversation_id = await _conversation(http, replica.url, key, "pool-user")
            # The key's use is written in the background: let that write pass first.
            await _until(lambda: _key_used(app_id))
            rename_url = f"{replica.url}/v1/conversations/{conversation_id}/name"

            async def rename(name: str) -> httpx.Response:
                body = {"name": name, "user": "pool-user"}
                return await http.post(rename_url, json=body, headers=auth(key))

            async with _writes_blocked(database, conversation_id):
                # One rename takes the only main-pool connection (on SQLite: the turn to
                # write) and waits on the lock; the others wait for the connection (the
                # turn), and give up after the timeout; on SQLite so does the first, once
                # the file lock outlasts KILN_SQLITE_BUSY_TIMEOUT.
                renames = [asyncio.create_task(rename(f"name {i}")) for i in range(3)]
                done, _ = await asyncio.wait(renames, return_when=asyncio.FIRST_COMPLETED)
                busy = next(iter(done)).result()
                assert busy.status_code == 503
                assert busy.json() == {
                    "code": "service_unavailable",
                    "message": "The server is temporarily unable to service your request due "
                    "to maintenance downtime or capacity problems. Please try again later.",
                    "status": 503,
                }
                assert busy.headers["retry-after"] == "1"
                # Reads go through the read pool meanwhile.
                listed = await http.get(
                    f"{replica.url}/v1/conversations",
                    params={"user": "pool-user"},
                    headers=auth(key),
                    timeout=10,
                )
                assert listed.status_code == 200
                assert [c["id"] for c in listed.json()["data"]] == [conversation_id]
                messages = await http.get(
                    f"{replica.url}/v1/messages",
                    params={"user": "pool-user", "conversation_id": conversation_id},
                    headers=auth(key),
                    timeout=10,
                )
                assert messages.status_code == 200 and len(messages.json()["data"]) == 1
                ready = await http.get(f"{replica.url}/ready", timeout=10)
                assert ready.status_code == 200
            statuses = sorted(r.status_code for r in await asyncio.gather(*renames))
            assert set(statuses) <= {200, 503}
            if not database.startswith("sqlite"):
                assert statuses[0] == 200  # the one holding the connection went on after
            assert (await rename("after")).status_code == 200
        assert "Traceback" not in replica.stderr()


async def _someone_waits_on_a_lock() -> bool:
    async with session_scope() as session:
        statement = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool((await session.exec(statement)).one()[0])


async def test_a_finished_answer_waits_for_a_connection_instead_of_failing(
    database: str, upstream: FakeUpstream
) -> None:
    app_id, key = await make_app(chat_dsl(provider="openai", model="gpt-4o-mini"))
    with KilnProcess(**TINY_MAIN_POOL) as replica:
        async with httpx.AsyncClient(base_url=replica.url, timeout=60) as http:
            held_id = await _conversation(http, "", key, "held-user")
            await _until(lambda: _key_used(app_id))
            upstream.behaviour.hold_completions = True
            body = {"inputs": {}, "query": "q", "response_mode": "streaming", "user": "u"}
            body["auto_generate_name"] = False
            request = http.build_request("POST", "/v1/chat-messages", json=body, headers=auth(key))
            response = await http.send(request, stream=True)
            assert response.status_code == 200  # its rows are written; the model waits
            async with _writes_blocked(database, held_id):
                blocker = None
                if not database.startswith("sqlite"):
                    # The only main-pool connection waits on the row lock.
                    blocker = asyncio.create_task(
                        http.post(
                            f"/v1/conversations/{held_id}/name",
                            json={"name": "x", "user": "held-user"},
                            headers=auth(key),
                        )
                    )
                    await _until(_someone_waits_on_a_lock)
                upstream.behaviour.hold_completions = False

                async def waiting() -> bool:
                    return "background database work still waiting" in replica.stderr()

                # The answer is complete; storing it waits past the pool timeout.
                await _until(waiting)
            frames = parse_frames((await response.aread()).decode())
            if blocker is not None:
                assert (await blocker).status_code == 200
        events = [frame["event"] for frame in frames]
        assert events[-1] == "message_end" and "error" not in events
        async with session_scope() as session:
            message = await session.get(Message, frames[-1]["id"])
        assert message is not None and not message.is_running
        assert message.status == "normal" and message.answer.startswith("Hello")


async def test_connections_the_server_dropped_are_replaced(database: str) -> None:
    if database.startswith("sqlite"):
        pytest.skip("PostgreSQL: a server that drops connections")
    app_id, key = await make_app(chat_dsl())
    with KilnProcess(KILN_DATABASE_PING_AFTER="0") as replica:
        async with httpx.AsyncClient(base_url=replica.url, timeout=30) as http:
            conversation_id = await _conversation(http, "", key, "dropped-user")
            await _until(lambda: _key_used(app_id))
            # A restart or a proxy drops every connection both pools hold.
            async with session_scope() as session:
                await session.exec(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            await dispose_engine()  # this test process's own pools were dropped too
            listed = await http.get(
                "/v1/conversations", params={"user": "dropped-user"}, headers=auth(key)
            )
            assert listed.status_code == 200
            renamed = await http.post(
                f"/v1/conversations/{conversation_id}/name",
                json={"name": "still here", "user": "dropped-user"},
                headers=auth(key),
            )
            assert renamed.status_code == 200 and renamed.json()["name"] == "still here"
        assert "Traceback" not in replica.stderr()


async def test_read_pool_refuses_writes(database: str) -> None:
    app_id, _ = await make_app(chat_dsl())
    with pytest.raises(Exception, match="(?i)read-only|readonly"):
        async with read_scope() as session:
            session.add(EndUser(app_id=app_id, type="service_api", session_id="never"))
    async with session_scope() as session:
        assert await session.get(EndUser, "never") is None


async def _app_enabled(app_id: str, enabled: bool) -> None:
    async with session_scope() as session:
        await session.exec(update(App).where(App.id == app_id).values(enable_api=enabled))


async def test_a_changed_app_shows_within_the_key_cache_ttl(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    assert (await client.get("/v1/info", headers=auth(key))).status_code == 200
    await _app_enabled(app_id, False)

    async def refused() -> bool:
        answer = await client.get("/v1/info", headers=auth(key))
        return answer.status_code == 403

    # Cached for at most KILN_API_KEY_CACHE_TTL (5 s by default): then the change shows.
    await _until(refused, timeout=get_settings().api_key_cache_ttl + 25)
    await _app_enabled(app_id, True)


async def test_without_the_key_cache_a_change_shows_at_once(database: str) -> None:
    app_id, key = await make_app(chat_dsl())
    with KilnProcess(KILN_API_KEY_CACHE_TTL="0") as replica:
        async with httpx.AsyncClient(base_url=replica.url, timeout=30) as http:
            assert (await http.get("/v1/info", headers=auth(key))).status_code == 200
            await _app_enabled(app_id, False)
            refused = await http.get("/v1/info", headers=auth(key))
            assert refused.status_code == 403
            assert refused.json()["message"] == "The app's API service has been disabled."


async def _key_used(app_id: str) -> bool:
    async with session_scope() as session:
        statement = select(ApiToken.last_used_at).where(ApiToken.app_id == app_id)
        return (await session.exec(statement)).first() is not None


async def test_key_use_is_recorded_in_the_background(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    assert not await _key_used(app_id)
    assert (await client.get("/v1/info", headers=auth(key))).status_code == 200
    await _until(lambda: _key_used(app_id))
