import json
import uuid
from typing import Any

import httpx

from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.sse import read_stream


def show(label, resp):
    try:
        body = resp.json()
    except Exception:
        body = resp.text[:300]
    print(
        f"\n### {label}: {resp.status_code} {resp.headers.get('content-type')} {json.dumps(body)[:1500]}"
    )


async def test_probe(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl())
    h = auth(key)
    r = await client.post(
        "/v1/chat-messages", json={"inputs": {}, "query": "hi", "user": "p"}, headers=h
    )
    show("blocking", r)
    b = r.json()
    cid, mid = b["conversation_id"], b["message_id"]
    body = {"inputs": {}, "query": "Hello", "response_mode": "streaming", "user": "p"}
    async with client.stream("POST", "/v1/chat-messages", json=body, headers=h) as resp:
        raw, events = await read_stream(resp)
    print("\n### stream headers", dict(resp.headers))
    print("### first", events[0])
    print("### last", events[-1])
    r = await client.get("/v1/messages", params={"conversation_id": cid, "user": "p"}, headers=h)
    show("messages", r)
    r = await client.post(
        f"/v1/conversations/{cid}/name", json={"name": "x" * 300, "user": "p"}, headers=h
    )
    show("rename300", r)
    r = await client.post(
        f"/v1/conversations/{cid}/name", json={"name": "  spaced  ", "user": "p"}, headers=h
    )
    show("rename spaced", r)
    r = await client.post(f"/v1/conversations/{cid}/name", json={"user": "p"}, headers=h)
    show("rename noname", r)
    r = await client.post(
        "/v1/chat-messages", json={"inputs": {}, "query": "hi", "user": 0}, headers=h
    )
    show("user 0", r)
    r = await client.post(
        "/v1/chat-messages", json={"inputs": [], "query": "hi", "user": "p"}, headers=h
    )
    show("inputs list", r)
    r = await client.post(
        "/v1/chat-messages", json={"inputs": {}, "query": 5, "user": "p"}, headers=h
    )
    show("query int", r)
    r = await client.get("/v1/messages", params={"user": "p"}, headers=h)
    show("messages no cid", r)
    r = await client.get("/v1/messages", params={"user": "p", "conversation_id": "bad"}, headers=h)
    show("messages bad cid", r)
    r = await client.get("/v1/conversations", params={"user": "p", "last_id": "bad"}, headers=h)
    show("conv bad last", r)
    r = await client.get("/v1/conversations", params={"user": "p", "limit": "0"}, headers=h)
    show("conv limit 0", r)
    r = await client.get(f"/v1/messages/{mid}/suggested", params={"user": "p"}, headers=h)
    show("suggested disabled", r)
    r = await client.get(f"/v1/messages/{mid}/suggested", headers=h)
    show("suggested nouser", r)
    r = await client.post(
        "/v1/text-to-audio", json={"message_id": str(uuid.uuid4()), "user": "p"}, headers=h
    )
    show("tts unknown msg", r)
    r = await client.get("/v1/parameters", headers=h)
    show("params", r)
    r = await client.get("/v1/info", headers=h)
    show("info", r)
    r = await client.get("/v1/site", headers=h)
    show("site", r)
    r = await client.get("/v1/meta", headers=h)
    show("meta", r)
    r = await client.post("/v1/chat-messages/abc/stop", json={"user": "p"}, headers=h)
    show("stop", r)
    r = await client.post("/v1/chat-messages/abc/stop", json={}, headers=h)
    show("stop nouser", r)
    r = await client.delete(f"/v1/conversations/{cid}", json={"user": "p"}, headers=h)
    show("delete", r)
    print(repr(r.content))
    r = await client.get(f"/v1/conversations/{cid}/variables", params={"user": "p"}, headers=h)
    show("vars deleted", r)
    r = await client.post(
        f"/v1/messages/{mid}/feedbacks", json={"rating": "like", "user": "p"}, headers=h
    )
    show("fb on deleted", r)
