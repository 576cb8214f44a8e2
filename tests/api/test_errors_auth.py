"""Dify's error body, Service API authentication, request validation and mode checks on
`POST /v1/chat-messages` (dify-api-behavior.md §1, §2, §4, §6.1-6.3)."""

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dsl import auth, chat_dsl, make_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dsl"
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again."
)
MISSING_HEADER = "Authorization header must be provided and start with 'Bearer'"
BAD_JSON = "Invalid JSON payload received or JSON payload is empty."
NOT_JSON_TYPE = (
    "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."
)
NOT_CHAT_APP = "Please check if your app mode matches the right API route."
APP_UNAVAILABLE = "App unavailable, please check your app configurations."
NO_CONVERSATION = "Conversation Not Exists."


def field(kind: str, variable: str, **spec: Any) -> dict[str, Any]:
    return {kind: {"variable": variable, "label": variable.title(), **spec}}


FORM = [
    field("text-input", "name", required=True, max_length=5),
    field("select", "tone", required=True, options=["friendly", "formal"]),
    field("select", "style", required=False, options=["plain", "fancy"], default="plain"),
    field("paragraph", "notes", required=False),
    field("number", "count", required=False),
]
VALID = {"name": "Ann", "tone": "formal"}


def assert_error(resp: httpx.Response, status: int, code: str, message: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.json() == {"code": code, "message": message, "status": status}


def assert_pydantic_error(resp: httpx.Response, field: str) -> str:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) == {"code", "message", "status"}
    assert body["code"] == "invalid_param" and body["status"] == 400
    assert body["message"].startswith(f"1 validation error for ChatRequestPayload\n{field}\n")
    return str(body["message"])


def chat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"inputs": {}, "query": "Hi", "user": "u-errors"}
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
async def chat_key(database: str) -> str:
    return (await make_app(chat_dsl()))[1]


@pytest.fixture(scope="module")
async def form_key(database: str) -> str:
    return (await make_app(chat_dsl(form=FORM)))[1]


async def post_chat(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/chat-messages", json=body, headers=auth(key))


async def new_conversation(client: httpx.AsyncClient, key: str, user: str) -> str:
    resp = await post_chat(client, key, chat(user=user))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["conversation_id"])


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/info"), ("POST", "/v1/chat-messages")])
async def test_missing_authorization(client: httpx.AsyncClient, method: str, path: str) -> None:
    resp = await client.request(method, path, json=chat())
    assert_error(resp, 401, "unauthorized", MISSING_HEADER)
    assert resp.headers["www-authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer", MISSING_HEADER),
        ("app-abcdefghijklmnopqrstuvwx", MISSING_HEADER),
        ("Basic dXNlcjpwYXNz", "Authorization scheme must be 'Bearer'"),
        ("Token app-abcdefghijklmnopqrstuvwx", "Authorization scheme must be 'Bearer'"),
        ("Bearer app-abcdefghijklmnopqrstuvwx", "Access token is invalid"),
        ("Bearer dataset-abcdefghijklmnopqrstuvwx", "Access token is invalid"),
    ],
)
async def test_bad_authorization(client: httpx.AsyncClient, header: str, message: str) -> None:
    resp = await client.get("/v1/info", headers={"Authorization": header})
    assert_error(resp, 401, "unauthorized", message)
    assert resp.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await client.get("/v1/info", headers={"Authorization": f"bearer {chat_key}"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["mode"] == "chat"


async def test_auth_is_checked_before_the_body(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/v1/chat-messages", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert_error(resp, 401, "unauthorized", MISSING_HEADER)


# --- routing and body parsing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/no-such-endpoint"), ("POST", "/v1/chat-messages/x/y/z"), ("GET", "/nowhere")],
)
async def test_unknown_route_is_dify_404(
    client: httpx.AsyncClient, chat_key: str, method: str, path: str
) -> None:
    resp = await client.request(method, path, headers=auth(chat_key))
    assert_error(resp, 404, "not_found", NOT_FOUND)


async def test_wrong_method_is_dify_405(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await client.get("/v1/chat-messages", headers=auth(chat_key))
    assert_error(
        resp, 405, "method_not_allowed", "The method is not allowed for the requested URL."
    )


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_non_json_content_type_is_415(
    client: httpx.AsyncClient, chat_key: str, kind: str | None
) -> None:
    headers = auth(chat_key) | ({"Content-Type": kind} if kind else {})
    raw = b'{"inputs": {}, "query": "Hi", "user": "u"}'
    resp = await client.post("/v1/chat-messages", content=raw, headers=headers)
    assert_error(resp, 415, "unsupported_media_type", NOT_JSON_TYPE)


@pytest.mark.parametrize("raw", [b"", b"   ", b"{not json", b'{"user": "u",}'])
async def test_empty_or_invalid_json_is_bad_request(
    client: httpx.AsyncClient, chat_key: str, raw: bytes
) -> None:
    resp = await client.post(
        "/v1/chat-messages",
        content=raw,
        headers={**auth(chat_key), "Content-Type": "application/json"},
    )
    assert_error(resp, 400, "bad_request", BAD_JSON)


async def test_json_with_charset_is_accepted(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await client.post(
        "/v1/chat-messages",
        content=b'{"inputs": {}, "query": "Hi", "user": "u-charset"}',
        headers={**auth(chat_key), "Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["answer"] == "Echo (turn 1): Hi"


# --- request fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [{}, {"inputs": {}, "query": "Hi"}, chat(user=""), chat(user=None)]
)
async def test_missing_user(client: httpx.AsyncClient, chat_key: str, body: dict[str, Any]) -> None:
    resp = await post_chat(client, chat_key, body)
    assert_error(resp, 400, "invalid_param", "Arg user must be provided.")


async def test_missing_inputs(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await post_chat(client, chat_key, {"query": "Hi", "user": "u"})
    assert "Field required" in assert_pydantic_error(resp, "inputs")


async def test_missing_query(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await post_chat(client, chat_key, {"inputs": {}, "user": "u"})
    assert "Field required" in assert_pydantic_error(resp, "query")


@pytest.mark.parametrize("mode", ["fast", "stream", "BLOCKING", 1])
async def test_bad_response_mode(client: httpx.AsyncClient, chat_key: str, mode: object) -> None:
    resp = await post_chat(client, chat_key, chat(response_mode=mode))
    assert "'blocking' or 'streaming'" in assert_pydantic_error(resp, "response_mode")


@pytest.mark.parametrize("conversation_id", ["not-a-uuid", "1234", "abc-def"])
async def test_non_uuid_conversation_id(
    client: httpx.AsyncClient, chat_key: str, conversation_id: str
) -> None:
    resp = await post_chat(client, chat_key, chat(conversation_id=conversation_id))
    message = assert_pydantic_error(resp, "conversation_id")
    assert "conversation_id must be a valid UUID" in message


@pytest.mark.parametrize("blank", ["", "   "])
async def test_blank_conversation_id_starts_a_new_one(
    client: httpx.AsyncClient, chat_key: str, blank: str
) -> None:
    resp = await post_chat(client, chat_key, chat(conversation_id=blank, user="u-blank"))
    assert resp.status_code == 200, resp.text
    assert uuid.UUID(resp.json()["conversation_id"])
    assert resp.json()["answer"] == "Echo (turn 1): Hi"


async def test_empty_query(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await post_chat(client, chat_key, chat(query=""))
    assert_error(resp, 400, "invalid_param", "query is required")


# --- inputs against user_input_form ---------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"tone": "formal"}, "name is required in input form"),
        ({"name": None, "tone": "formal"}, "name is required in input form"),
        ({"name": "Ann"}, "tone is required in input form"),
        ({**VALID, "name": "Annabel"}, "name in input form must be less than 5 characters"),
        ({**VALID, "name": 42}, "(type 'text-input') name in input form must be a string"),
        ({**VALID, "tone": 1}, "(type 'select') tone in input form must be a string"),
        ({**VALID, "notes": 5}, "(type 'paragraph') notes in input form must be a string"),
        (
            {**VALID, "tone": "angry"},
            "tone in input form must be one of the following: ['friendly', 'formal']",
        ),
        (
            {**VALID, "style": "loud"},
            "style in input form must be one of the following: ['plain', 'fancy']",
        ),
        ({**VALID, "count": "abc"}, "count in input form must be a valid number"),
        ({**VALID, "count": "1.2.3"}, "count in input form must be a valid number"),
    ],
)
async def test_input_validation_messages(
    client: httpx.AsyncClient, form_key: str, inputs: dict[str, Any], message: str
) -> None:
    resp = await post_chat(client, form_key, chat(inputs=inputs))
    assert_error(resp, 400, "invalid_param", message)


async def test_inputs_are_coerced_defaulted_and_filtered(client: httpx.AsyncClient) -> None:
    numbers = ["n1", "n2", "n3", "n4", "n5"]
    checks = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]
    form = [field("text-input", "name", required=True), *FORM[2:4]]
    form += [field("number", n) for n in numbers] + [field("checkbox", c) for c in checks]
    _, key = await make_app(chat_dsl(form=form))
    checkbox_values = ["yes", "ON", "1", 1, "true", "off", "No", "0", 0]
    sent = {
        "name": "Ann",
        **dict(zip(numbers, ["3", "2.5", 7, "", 1.25], strict=True)),
        **dict(zip(checks, checkbox_values, strict=True)),
        "unknown": "dropped",
        "other": {"also": "dropped"},
    }
    resp = await post_chat(client, key, chat(inputs=sent, user="u-coerce"))
    assert resp.status_code == 200, resp.text
    expected = {
        "name": "Ann",
        "style": "plain",
        "notes": None,
        **dict(zip(numbers, [3, 2.5, 7, None, 1.25], strict=True)),
        **dict.fromkeys(checks[:5], True),
        **dict.fromkeys(checks[5:], False),
    }
    params = {"conversation_id": resp.json()["conversation_id"], "user": "u-coerce"}
    messages = await client.get("/v1/messages", params=params, headers=auth(key))
    assert messages.status_code == 200, messages.text
    [message] = messages.json()["data"]
    assert message["inputs"] == expected
    assert isinstance(message["inputs"]["n1"], int) and isinstance(message["inputs"]["n2"], float)
    listing = await client.get("/v1/conversations", params={"user": "u-coerce"}, headers=auth(key))
    assert [c["inputs"] for c in listing.json()["data"]] == [expected]


# --- conversations and scoping --------------------------------------------------------------


async def test_unknown_conversation_id(client: httpx.AsyncClient, chat_key: str) -> None:
    resp = await post_chat(client, chat_key, chat(conversation_id=str(uuid.uuid4())))
    assert_error(resp, 404, "not_found", NO_CONVERSATION)


async def test_other_users_conversation_is_not_found(
    client: httpx.AsyncClient, chat_key: str
) -> None:
    conversation_id = await new_conversation(client, chat_key, "owner-1")
    resp = await post_chat(client, chat_key, chat(conversation_id=conversation_id, user="intruder"))
    assert_error(resp, 404, "not_found", NO_CONVERSATION)
    own = await post_chat(client, chat_key, chat(conversation_id=conversation_id, user="owner-1"))
    assert own.status_code == 200 and own.json()["answer"] == "Echo (turn 2): Hi"


async def test_other_apps_key_cannot_use_the_conversation(
    client: httpx.AsyncClient, chat_key: str
) -> None:
    conversation_id = await new_conversation(client, chat_key, "owner-2")
    _, other_key = await make_app(chat_dsl(name="Other App"))
    resp = await post_chat(client, other_key, chat(conversation_id=conversation_id, user="owner-2"))
    assert_error(resp, 404, "not_found", NO_CONVERSATION)


# --- app modes ------------------------------------------------------------------------------


async def test_completion_app_on_chat_route(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(mode="completion"))
    assert_error(await post_chat(client, key, chat()), 400, "not_chat_app", NOT_CHAT_APP)
    # The mode is checked before the body is validated.
    resp = await post_chat(client, key, {"user": "u"})
    assert_error(resp, 400, "not_chat_app", NOT_CHAT_APP)


@pytest.mark.parametrize("mode", ["chat", "agent-chat"])
async def test_chat_family_app_on_completion_route(client: httpx.AsyncClient, mode: str) -> None:
    _, key = await make_app(chat_dsl(mode=mode))
    resp = await client.post("/v1/completion-messages", json=chat(), headers=auth(key))
    assert_error(resp, 400, "app_unavailable", APP_UNAVAILABLE)


@pytest.mark.parametrize(
    ("fixture", "path", "code", "message"),
    [
        ("advanced_chat_v0_3_1.yml", "/v1/completion-messages", "app_unavailable", APP_UNAVAILABLE),
        ("workflow_v0_5_0.yml", "/v1/chat-messages", "not_chat_app", NOT_CHAT_APP),
        ("workflow_v0_5_0.yml", "/v1/completion-messages", "app_unavailable", APP_UNAVAILABLE),
    ],
)  # advanced-chat apps answer /v1/chat-messages (tests/api/test_workflow_run.py)
async def test_graph_apps_on_message_routes(
    client: httpx.AsyncClient, fixture: str, path: str, code: str, message: str
) -> None:
    _, key = await make_app((FIXTURES / fixture).read_text(encoding="utf-8"))
    body = chat(inputs={"article": "text", "language": "English"})
    resp = await client.post(path, json=body, headers=auth(key))
    assert_error(resp, 400, code, message)


@pytest.mark.parametrize("mode_field", [{}, {"response_mode": "blocking"}])
async def test_agent_chat_rejects_blocking(
    client: httpx.AsyncClient, mode_field: dict[str, str]
) -> None:
    _, key = await make_app(chat_dsl(mode="agent-chat"))
    resp = await post_chat(client, key, chat(**mode_field))
    assert_error(resp, 400, "invalid_param", "Agent Chat App does not support blocking mode")


# --- nothing is written by a rejected request -----------------------------------------------


async def test_rejected_requests_write_nothing(client: httpx.AsyncClient, form_key: str) -> None:
    user = "u-rejected"
    bad_bodies = [
        chat(user=user),  # required inputs missing
        chat(user=user, inputs={**VALID, "tone": "angry"}),
        chat(user=user, inputs=VALID, query=""),
        chat(user=user, inputs=VALID, response_mode="fast"),
        chat(user=user, inputs=VALID, conversation_id="nope"),
        chat(user=user, inputs=VALID, conversation_id=str(uuid.uuid4())),
        {"query": "Hi", "user": user},
    ]
    for body in bad_bodies:
        resp = await post_chat(client, form_key, body)
        assert resp.status_code in (400, 404), resp.text
    listing = await client.get("/v1/conversations", params={"user": user}, headers=auth(form_key))
    assert listing.status_code == 200, listing.text
    assert listing.json() == {"limit": 20, "has_more": False, "data": []}
    ok = await post_chat(client, form_key, chat(user=user, inputs=VALID))
    assert ok.status_code == 200, ok.text
    listing = await client.get("/v1/conversations", params={"user": user}, headers=auth(form_key))
    assert [c["id"] for c in listing.json()["data"]] == [ok.json()["conversation_id"]]
