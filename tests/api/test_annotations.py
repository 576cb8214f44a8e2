"""Annotation CRUD (dify-api-behavior.md §10.1): fields, paging with Dify's `has_more`
rule, keyword search, app scoping, and Dify's 4xx bodies (never 422)."""

import uuid
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app

FIELDS = {"id", "question", "answer", "hit_count", "created_at"}


async def _create(client: httpx.AsyncClient, key: str, q: str, a: str) -> dict[str, Any]:
    resp = await client.post(
        "/v1/apps/annotations", json={"question": q, "answer": a}, headers=auth(key)
    )
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def _list(client: httpx.AsyncClient, key: str, **params: Any) -> dict[str, Any]:
    resp = await client.get("/v1/apps/annotations", params=params, headers=auth(key))
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def test_create_list_update_delete(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    item = await _create(client, key, "What is Kiln?", "A Dify runner.")
    assert set(item) == FIELDS
    assert item["question"] == "What is Kiln?" and item["answer"] == "A Dify runner."
    assert item["hit_count"] == 0 and isinstance(item["created_at"], int)

    page = await _list(client, key)
    assert page == {"data": [item], "has_more": False, "limit": 20, "total": 1, "page": 1}

    resp = await client.put(
        f"/v1/apps/annotations/{item['id']}",
        json={"question": "What is Kiln?", "answer": "Fast."},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == item | {"answer": "Fast."}

    resp = await client.delete(f"/v1/apps/annotations/{item['id']}", headers=auth(key))
    assert resp.status_code == 204 and resp.content == b""
    assert (await _list(client, key))["total"] == 0


async def test_paging_has_more_and_keyword(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    for i in range(4):
        await _create(client, key, f"Question {i} apple" if i % 2 else f"Q{i}", f"Answer {i}")
    first = await _list(client, key, page=1, limit=2)
    assert [d["answer"] for d in first["data"]] == ["Answer 3", "Answer 2"]  # newest first
    assert first["has_more"] is True and first["total"] == 4
    second = await _list(client, key, page=2, limit=2)
    assert [d["answer"] for d in second["data"]] == ["Answer 1", "Answer 0"]
    assert second["has_more"] is True  # Dify's quirk: an exactly full page has more
    third = await _list(client, key, page=3, limit=2)
    assert third["data"] == [] and third["has_more"] is False
    far = await _list(client, key, page=2**62, limit=100)  # an offset past 64 bits
    assert far["data"] == [] and far["page"] == 2**62 and far["total"] == 4
    found = await _list(client, key, keyword="APPLE")
    assert {d["answer"] for d in found["data"]} == {"Answer 1", "Answer 3"}
    assert found["total"] == 2
    by_answer = await _list(client, key, keyword="answer 2")
    assert [d["answer"] for d in by_answer["data"]] == ["Answer 2"]
    odd = await _list(client, key, page="x", limit="y")  # malformed ints: the defaults
    assert odd["page"] == 1 and odd["limit"] == 20 and odd["total"] == 4
    capped = await _list(client, key, limit=500)
    assert capped["limit"] == 500 and len(capped["data"]) == 4


async def test_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    _, other_key = await make_app(chat_dsl())
    item = await _create(client, key, "q", "a")
    missing = str(uuid.uuid4())
    body = {"question": "q2", "answer": "a2"}
    for method, url in (("PUT", missing), ("DELETE", missing)):
        resp = await client.request(
            method, f"/v1/apps/annotations/{url}", json=body, headers=auth(key)
        )
        assert resp.status_code == 404
        assert resp.json() == {
            "code": "not_found",
            "message": "Annotation not found.",
            "status": 404,
        }
    # another app's annotation looks missing (no IDOR)
    resp = await client.put(
        f"/v1/apps/annotations/{item['id']}", json=body, headers=auth(other_key)
    )
    assert resp.status_code == 404
    resp = await client.delete(f"/v1/apps/annotations/{item['id']}", headers=auth(other_key))
    assert resp.status_code == 404
    assert (await _list(client, key))["data"][0]["answer"] == "a"

    for bad in ({"question": "only"}, {"answer": "only"}, {"question": 1, "answer": "x"}):
        resp = await client.post("/v1/apps/annotations", json=bad, headers=auth(key))
        assert resp.status_code == 400, resp.text
        assert resp.json()["code"] == "invalid_param"
    resp = await client.put(
        f"/v1/apps/annotations/{item['id']}", json={"question": "x"}, headers=auth(key)
    )
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_param"
    resp = await client.post(
        "/v1/apps/annotations",
        content=b"{",
        headers=auth(key) | {"Content-Type": "application/json"},
    )
    assert resp.status_code == 400 and resp.json()["code"] == "bad_request"
    assert (await _list(client, key))["total"] == 1  # nothing half-written
    resp = await client.get("/v1/apps/annotations", headers=auth("app-nope"))
    assert resp.status_code == 401
