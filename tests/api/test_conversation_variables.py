"""`GET /v1/conversations/{id}/variables` and `PUT .../variables/{variable_id}`: paging, the
name filter, typed updates and Dify's errors (dify-api-behavior.md §8.5). Classic apps
declare no variables, so the rows are written directly, as the graph engine will."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.core.db import session_scope
from app.models import ConversationVariable
from tests.support.dsl import auth, chat_dsl, make_app

ITEM_FIELDS = {"id", "name", "value_type", "value", "description", "created_at", "updated_at"}
BASE = datetime(2025, 1, 1, tzinfo=UTC)
VARIABLES: list[tuple[str, str, Any]] = [
    ("user_name", "string", "Ada"),
    ("visit_count", "integer", 3),
    ("profile", "object", {"lang": "en", "vip": True}),
    ("tags", "array[string]", ["a", "b"]),
    ("Score.v2", "number", 1.5),
    ("is_member", "boolean", False),
    ("history-log", "array[any]", []),
]


async def _conversation(client: httpx.AsyncClient, key: str, user: str) -> str:
    body = {"inputs": {}, "query": "hi", "user": user, "auto_generate_name": False}
    resp = await client.post("/v1/chat-messages", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["conversation_id"])


async def _seed(app_id: str, conversation_id: str, same_time: bool = False) -> list[str]:
    ids = []
    async with session_scope() as session:
        for index, (name, value_type, value) in enumerate(VARIABLES):
            moment = BASE if same_time else BASE + timedelta(seconds=index)
            row = ConversationVariable(
                id=str(uuid.uuid4()),
                conversation_id=conversation_id,
                app_id=app_id,
                name=name,
                value_type=value_type,
                value=value,
                description=f"about {name}",
                created_at=moment,
                updated_at=moment,
            )
            session.add(row)
            ids.append(row.id)
    return ids


async def _list(client: httpx.AsyncClient, key: str, cid: str, **params: Any) -> httpx.Response:
    return await client.get(f"/v1/conversations/{cid}/variables", params=params, headers=auth(key))


async def _put(
    client: httpx.AsyncClient, key: str, cid: str, vid: str, body: dict[str, Any]
) -> httpx.Response:
    path = f"/v1/conversations/{cid}/variables/{vid}"
    return await client.put(path, json=body, headers=auth(key))


def _error(resp: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["status"] == status, body
    if message is not None:
        assert body["message"] == message, body


async def test_classic_conversation_has_no_variables(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    cid = await _conversation(client, key, "none-u")
    resp = await _list(client, key, cid, user="none-u")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"limit": 20, "has_more": False, "data": []}


async def test_list_renders_values_as_strings_in_creation_order(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    cid = await _conversation(client, key, "list-u")
    ids = await _seed(app_id, cid)
    page = (await _list(client, key, cid, user="list-u")).json()
    assert page["has_more"] is False and [i["id"] for i in page["data"]] == ids
    assert all(set(item) == ITEM_FIELDS for item in page["data"])
    values = {item["name"]: item["value"] for item in page["data"]}
    assert values == {
        "user_name": "Ada",
        "visit_count": "3",
        "profile": "{'lang': 'en', 'vip': True}",
        "tags": "['a', 'b']",
        "Score.v2": "1.5",
        "is_member": "False",
        "history-log": "[]",
    }
    first = page["data"][0]
    assert first["value_type"] == "string" and first["description"] == "about user_name"
    assert first["created_at"] == int(BASE.timestamp())


async def test_paging_and_name_filter(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    cid = await _conversation(client, key, "page-u")
    ids = await _seed(app_id, cid, same_time=True)  # ties on created_at must not skip rows
    seen: list[str] = []
    params: dict[str, Any] = {"user": "page-u", "limit": 3}
    flags = []
    while True:
        page = (await _list(client, key, cid, **params)).json()
        seen += [i["id"] for i in page["data"]]
        flags.append(page["has_more"])
        if not page["has_more"]:
            break
        params["last_id"] = seen[-1]
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    assert flags == [True, True, False]

    def names(resp: httpx.Response) -> list[str]:
        assert resp.status_code == 200, resp.text
        return [i["name"] for i in resp.json()["data"]]

    assert names(await _list(client, key, cid, user="page-u", variable_name="USER")) == [
        "user_name"
    ]
    assert sorted(names(await _list(client, key, cid, user="page-u", variable_name="s"))) == [
        "Score.v2",
        "history-log",
        "is_member",
        "tags",
        "user_name",
        "visit_count",
    ]
    assert names(await _list(client, key, cid, user="page-u", variable_name="e.v")) == ["Score.v2"]
    assert names(await _list(client, key, cid, user="page-u", variable_name="r_n")) == ["user_name"]
    assert names(await _list(client, key, cid, user="page-u", variable_name="e_n")) == []
    for bad in ("has space", "semi;colon", "x" * 256, "%"):
        _error(
            await _list(client, key, cid, user="page-u", variable_name=bad), 400, "invalid_param"
        )
    for limit in (0, 101, "many"):
        _error(await _list(client, key, cid, user="page-u", limit=limit), 400, "invalid_param")
    unknown = await _list(client, key, cid, user="page-u", last_id=str(uuid.uuid4()))
    _error(unknown, 404, "not_found", "Conversation Variable Not Exists.")
    _error(await _list(client, key, cid, user="page-u", last_id="nope"), 400, "invalid_param")


async def test_list_errors(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    cid = await _conversation(client, key, "lerr-u")
    missing = "Conversation Not Exists."
    _error(await _list(client, key, cid, user="someone"), 404, "not_found", missing)
    _error(await _list(client, key, str(uuid.uuid4()), user="lerr-u"), 404, "not_found", missing)
    _error(await _list(client, key, "nope", user="lerr-u"), 404, "not_found")
    _, completion_key = await make_app(chat_dsl(mode="completion", model_mode="completion"))
    _error(await _list(client, completion_key, cid, user="lerr-u"), 400, "not_chat_app")


async def test_update_checks_the_declared_type(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    cid = await _conversation(client, key, "upd-u")
    ids = dict(zip([v[0] for v in VARIABLES], await _seed(app_id, cid), strict=True))

    resp = await _put(client, key, cid, ids["user_name"], {"value": "Grace", "user": "upd-u"})
    assert resp.status_code == 200, resp.text
    item = resp.json()
    assert set(item) == ITEM_FIELDS and item["value"] == "Grace" and item["name"] == "user_name"
    assert item["updated_at"] > int(BASE.timestamp()) and item["created_at"] == int(
        BASE.timestamp()
    )
    ok_updates = [
        ("visit_count", 2.5, "2.5"),  # an integer variable takes any number
        ("profile", {"k": [1, None]}, "{'k': [1, None]}"),
        ("tags", [], "[]"),
        ("Score.v2", 7, "7"),
        ("is_member", True, "True"),
        ("history-log", [1, "x"], "[1, 'x']"),
    ]
    for name, value, rendered in ok_updates:
        resp = await _put(client, key, cid, ids[name], {"value": value, "user": "upd-u"})
        assert resp.status_code == 200 and resp.json()["value"] == rendered, (name, resp.text)
    listed = (await _list(client, key, cid, user="upd-u", variable_name="user_name")).json()
    assert listed["data"][0]["value"] == "Grace"

    mismatches = [
        ("user_name", 5, "expects string, but got integer type"),
        ("visit_count", "3", "expects number, but got string type"),
        ("Score.v2", True, "expects number, but got boolean type"),
        ("profile", ["a"], "expects object, but got array[string] type"),
        ("tags", ["a", 1], "expects array[string], but got array[any] type"),
        ("is_member", None, "expects boolean, but got none type"),
        ("history-log", {"a": 1}, "expects array[any], but got object type"),
        ("tags", [1.5, 2], "expects array[string], but got array[number] type"),
    ]
    for name, value, tail in mismatches:
        resp = await _put(client, key, cid, ids[name], {"value": value, "user": "upd-u"})
        _error(resp, 400, "bad_request", f"Type mismatch: variable '{name}' {tail}")
    listed = (await _list(client, key, cid, user="upd-u", variable_name="user_name")).json()
    assert listed["data"][0]["value"] == "Grace"  # nothing half-written


async def test_update_errors(client: httpx.AsyncClient) -> None:
    app_id, key = await make_app(chat_dsl())
    cid = await _conversation(client, key, "uerr-u")
    vid = (await _seed(app_id, cid))[0]
    _error(await _put(client, key, cid, vid, {"user": "uerr-u"}), 400, "invalid_param")
    missing = "Conversation Variable Not Exists."
    _error(
        await _put(client, key, cid, str(uuid.uuid4()), {"value": "x", "user": "uerr-u"}),
        404,
        "not_found",
        missing,
    )
    conv_missing = "Conversation Not Exists."
    _error(
        await _put(client, key, cid, vid, {"value": "x", "user": "other"}),
        404,
        "not_found",
        conv_missing,
    )
    other_cid = await _conversation(client, key, "uerr-u")
    _error(
        await _put(client, key, other_cid, vid, {"value": "x", "user": "uerr-u"}),
        404,
        "not_found",
        missing,
    )
    _error(await _put(client, key, cid, "nope", {"value": "x", "user": "uerr-u"}), 404, "not_found")
    resp = await client.put(
        f"/v1/conversations/{cid}/variables/{vid}",
        content=b"",
        headers={**auth(key), "Content-Type": "application/json"},
    )
    _error(resp, 400, "bad_request")
