"""Chat Service API details where Kiln once differed from Dify (found by a spec review):
each test cites the spec (shared/spec), the reference notes
(shared/reference/dify-api-behavior.md) or the Dify source file it follows."""

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dsl import auth, chat_dsl, make_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dsl"
BUILTIN_ICON_PATH = "/console/api/workspaces/current/tool-provider/builtin/"


async def _chat(client: httpx.AsyncClient, key: str, **body: Any) -> httpx.Response:
    payload: dict[str, Any] = {"inputs": {}, "query": "Hi", "user": "review-u"}
    payload.update(body)
    return await client.post("/v1/chat-messages", json=payload, headers=auth(key))


# 1. GET /meta ----------------------------------------------------------------------------------
async def test_meta_lists_icons_of_agent_tools(client: httpx.AsyncClient) -> None:
    """dify-api-behavior.md §5.3: `{"tool_icons": {"<tool_name>": "<icon url>" | {background,
    content}}}` (empty only for non-agent apps). Dify api/services/app_service.py get_app_meta:
    builtin tool -> CONSOLE_API_URL + ".../tool-provider/builtin/<provider_id>/icon"; api tool
    whose provider is unknown -> {"background": "#252525", "content": "\\ud83d\\ude01"}."""
    _, key = await make_app((FIXTURES / "v0_1_3_agent_chat.yml").read_text())
    icons = (await client.get("/v1/meta", headers=auth(key))).json()["tool_icons"]
    assert set(icons) == {"current_time", "wikipedia_search"}, icons
    assert icons["current_time"].endswith(BUILTIN_ICON_PATH + "time/icon")
    assert icons["wikipedia_search"].endswith(BUILTIN_ICON_PATH + "wikipedia/icon")

    _, key = await make_app((FIXTURES / "v0_6_0_agent_chat.yml").read_text())
    icons = (await client.get("/v1/meta", headers=auth(key))).json()["tool_icons"]
    assert icons.get("current_time", "").endswith(BUILTIN_ICON_PATH + "langgenius/time/time/icon")
    assert icons.get("getOrderStatus") == {"background": "#252525", "content": "\U0001f601"}


# 4. POST /text-to-audio with an unknown message_id ------------------------------------------------
async def test_text_to_audio_unknown_message_is_not_found(client: httpx.AsyncClient) -> None:
    """Dify (api/services/audio_service.py transcript_tts: `if message is None: return None`)
    answers 200 `null`, which the seed's OpenAPI contract does not allow (a 200 is
    audio/mpeg only) and generated clients break on: the contract wins, with Dify's own
    message-not-found error (README, deliberate differences)."""
    _, key = await make_app(chat_dsl(text_to_speech={"enabled": True, "voice": "nova"}))
    resp = await client.post(
        "/v1/text-to-audio",
        json={"message_id": str(uuid.uuid4()), "user": "tts-u"},
        headers=auth(key),
    )
    assert resp.status_code == 404, resp.text
    assert resp.json() == {"code": "not_found", "message": "Message Not Exists.", "status": 404}


# 5. GET /conversations/{id}/variables: variable_name rules ----------------------------------------
@pytest.mark.parametrize(
    ("name", "status"),
    [("a--b", 400), ("sp_config", 400), ("xp_cmd", 400), ("名前", 200), ("größe", 200)],
)
async def test_variable_name_filter_follows_difys_validator(
    client: httpx.AsyncClient, name: str, status: int
) -> None:
    """Dify api/controllers/service_api/app/conversation.py ConversationVariablesQuery:
    `v.replace("-","").replace("_","").replace(".","").isalnum()` (Unicode letters pass), then
    rejects the patterns ' " ; -- /* */ xp_ sp_ ("Variable name contains invalid characters:
    {pattern}") -> 400 invalid_param."""
    _, key = await make_app(chat_dsl())
    cid = (await _chat(client, key, auto_generate_name=False)).json()["conversation_id"]
    resp = await client.get(
        f"/v1/conversations/{cid}/variables",
        params={"user": "review-u", "variable_name": name},
        headers=auth(key),
    )
    assert resp.status_code == status, resp.text
    if status == 400:
        assert resp.json()["code"] == "invalid_param"
        assert "Variable name contains invalid characters" in resp.json()["message"]


# 6. inputs: values Dify treats as unset or accepts ------------------------------------------------
FILE_LIST = {
    "file-list": {
        "variable": "docs",
        "label": "Docs",
        "required": False,
        "max_length": 3,
        "allowed_file_types": ["document"],
        "allowed_file_upload_methods": ["local_file"],
    }
}
JSON_OBJECT = {"json_object": {"variable": "extra", "label": "Extra", "required": False}}


@pytest.mark.parametrize(
    ("form", "inputs"),
    [([FILE_LIST], {"docs": ""}), ([JSON_OBJECT], {"extra": ""})],
)
async def test_optional_inputs_dify_accepts(
    client: httpx.AsyncClient, form: list[dict[str, Any]], inputs: dict[str, Any]
) -> None:
    """Dify api/core/app/apps/base_app_generator.py _validate_inputs: for optional FILE and
    FILE_LIST "Treat empty string (frontend default) as unset"; JSON_OBJECT only fails
    `if value and not isinstance(value, dict)` (a falsy value passes)."""
    _, key = await make_app(chat_dsl(form=form))
    resp = await _chat(client, key, inputs=inputs, auto_generate_name=False)
    assert resp.status_code == 200, resp.text


# 7. a falsy `user` ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", [0, False])
async def test_falsy_user_is_not_a_user(client: httpx.AsyncClient, user: object) -> None:
    """Dify api/controllers/service_api/wraps.py validate_app_token: `if not user_id and
    fetch_user_arg.required: raise ValueError("Arg user must be provided.")`."""
    _, key = await make_app(chat_dsl())
    resp = await _chat(client, key, user=user)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {
        "code": "invalid_param",
        "message": "Arg user must be provided.",
        "status": 400,
    }


# 8. GET /conversations: query validation errors carry pydantic's text ------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"last_id": "not-a-uuid"}, "last_id"),
        ({"sort_by": "x"}, "sort_by"),
    ],
)
async def test_conversation_list_query_errors_are_pydantic_text(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    """dify-api-behavior.md §1.1 rule 5: any pydantic ValidationError -> 400 invalid_param with
    `str(e)`. Dify api/controllers/service_api/app/conversation.py:
    `ConversationListQuery.model_validate(request.args.to_dict())`, so the message reads
    "1 validation error for ConversationListQuery\\n<field>\\n  ..."."""
    _, key = await make_app(chat_dsl())
    await _chat(client, key, auto_generate_name=False)
    resp = await client.get(
        "/v1/conversations", params={"user": "review-u", **params}, headers=auth(key)
    )
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "invalid_param"
    assert body["message"].startswith(f"1 validation error for ConversationListQuery\n{field}\n"), (
        body["message"]
    )
