"""`GET /v1/`, `/v1/info`, `/v1/parameters`, `/v1/meta`, `/v1/site` (dify-api-behavior.md §0,
§5) and the probes `GET /health`, `GET /ready`."""

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.dsl import auth, chat_dsl, make_app

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "dsl"
EXAMPLE = ROOT / "examples" / "apps" / "chat-assistant.yml"

SYSTEM_PARAMETERS = {
    "image_file_size_limit": 10,
    "video_file_size_limit": 100,
    "audio_file_size_limit": 50,
    "file_size_limit": 15,
    "workflow_file_upload_limit": 10,
}
DISABLED = {"enabled": False}
DEFAULTS: dict[str, Any] = {
    "opening_statement": None,
    "suggested_questions": [],
    "suggested_questions_after_answer": DISABLED,
    "speech_to_text": DISABLED,
    "text_to_speech": DISABLED,
    "retriever_resource": DISABLED,
    "annotation_reply": DISABLED,
    "more_like_this": DISABLED,
    "sensitive_word_avoidance": {"enabled": False, "type": "", "configs": []},
    "user_input_form": [],
    "file_upload": {
        "image": {
            "enabled": False,
            "number_limits": 3,
            "detail": "high",
            "transfer_methods": ["remote_url", "local_file"],
        }
    },
    "system_parameters": SYSTEM_PARAMETERS,
}
FEATURES = (
    "opening_statement",
    "suggested_questions",
    "suggested_questions_after_answer",
    "speech_to_text",
    "text_to_speech",
    "retriever_resource",
    "annotation_reply",
    "more_like_this",
    "sensitive_word_avoidance",
    "file_upload",
)
SITE_KEYS = {
    "title",
    "chat_color_theme",
    "chat_color_theme_inverted",
    "icon_type",
    "icon",
    "icon_background",
    "icon_url",
    "description",
    "copyright",
    "privacy_policy",
    "custom_disclaimer",
    "default_language",
    "show_workflow_steps",
    "use_icon_as_answer_icon",
}


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


async def get_json(client: httpx.AsyncClient, path: str, key: str) -> Any:
    resp = await client.get(path, headers=auth(key))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    return resp.json()


def start_variables(document: dict[str, Any]) -> list[dict[str, Any]]:
    for node in document["workflow"]["graph"]["nodes"]:
        if node["data"]["type"] == "start":
            return list(node["data"]["variables"])
    raise AssertionError("no start node")


# --- GET /v1/ -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer app-not-a-real-key-at-all00"}])
async def test_welcome_needs_no_auth(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    resp = await client.get("/v1/", headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"welcome", "api_version", "server_version"}
    assert body["welcome"] == "Dify OpenAPI"
    assert body["api_version"] == "v1"
    assert re.fullmatch(r"\d+\.\d+\.\d+", body["server_version"])


@pytest.mark.parametrize("path", ["/v1/info", "/v1/parameters", "/v1/meta", "/v1/site"])
async def test_app_endpoints_need_a_key(client: httpx.AsyncClient, path: str) -> None:
    resp = await client.get(path)
    assert resp.status_code == 401
    assert resp.json() == {
        "code": "unauthorized",
        "message": "Authorization header must be provided and start with 'Bearer'",
        "status": 401,
    }


# --- GET /v1/info ---------------------------------------------------------------------------


async def test_info(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(name="Info App"))
    body = await get_json(client, "/v1/info", key)
    assert set(body) == {"name", "description", "tags", "mode", "author_name"}
    assert body["name"] == "Info App"
    assert body["description"] == "Info App for tests"
    assert body["tags"] == []
    assert body["mode"] == "chat"
    assert isinstance(body["author_name"], str)


@pytest.mark.parametrize(
    ("fixture", "name", "mode"),
    [
        ("v0_1_2_completion.yml", "Release Notes Writer", "completion"),
        ("v0_1_3_agent_chat.yml", "Research Helper", "agent-chat"),
        ("v0_5_0_chat.yml", "Recipe Coach", "chat"),
        ("advanced_chat_v0_3_1.yml", "Help Desk Chatflow", "advanced-chat"),
        ("workflow_v0_5_0.yml", "Article Summariser", "workflow"),
    ],
)
async def test_info_mode_per_fixture(
    client: httpx.AsyncClient, fixture: str, name: str, mode: str
) -> None:
    text = fixture_text(fixture)
    _, key = await make_app(text)
    body = await get_json(client, "/v1/info", key)
    assert (body["name"], body["mode"]) == (name, mode)
    assert body["description"] == yaml.safe_load(text)["app"]["description"]


# --- GET /v1/parameters ---------------------------------------------------------------------


async def test_parameters_defaults_for_absent_features(client: httpx.AsyncClient) -> None:
    document = {
        "version": "0.6.0",
        "kind": "app",
        "app": {"name": "Bare", "mode": "chat"},
        "model_config": {
            "model": {"provider": "kiln", "name": "echo", "mode": "chat", "completion_params": {}},
            "pre_prompt": "Be brief.",
        },
    }
    _, key = await make_app(yaml.safe_dump(document))
    assert await get_json(client, "/v1/parameters", key) == DEFAULTS


async def test_parameters_defaults_for_graph_app_without_features(
    client: httpx.AsyncClient,
) -> None:
    variable = {"type": "text-input", "variable": "topic", "label": "Topic", "required": True}
    start = {"id": "start", "data": {"type": "start", "title": "Start", "variables": [variable]}}
    document = {
        "version": "0.6.0",
        "kind": "app",
        "app": {"name": "Bare Flow", "mode": "workflow"},
        "workflow": {"graph": {"nodes": [start], "edges": []}},
    }
    _, key = await make_app(yaml.safe_dump(document))
    body = await get_json(client, "/v1/parameters", key)
    form = body.pop("user_input_form")
    assert body == {k: v for k, v in DEFAULTS.items() if k != "user_input_form"}
    assert [next(iter(item)) for item in form] == ["text-input"]
    assert form[0]["text-input"]["variable"] == "topic"


async def test_parameters_of_the_example_chat_assistant(client: httpx.AsyncClient) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    config = yaml.safe_load(text)["model_config"]
    _, key = await make_app(text)
    body = await get_json(client, "/v1/parameters", key)
    assert set(body) == set(DEFAULTS)
    for name in FEATURES:
        assert body[name] == config[name], name
    assert body["opening_statement"].startswith("Hello {{name}}!")
    assert body["suggested_questions_after_answer"] == {"enabled": True}
    assert body["retriever_resource"] == {"enabled": True}
    assert body["user_input_form"] == config["user_input_form"]
    assert [next(iter(item)) for item in body["user_input_form"]] == [
        "text-input",
        "select",
        "number",
    ]
    assert body["user_input_form"][1]["select"]["options"] == ["friendly", "formal", "concise"]
    assert body["system_parameters"] == SYSTEM_PARAMETERS


@pytest.mark.parametrize("fixture", ["v0_5_0_chat.yml", "v0_4_0_completion.yml"])
async def test_parameters_echo_classic_features(client: httpx.AsyncClient, fixture: str) -> None:
    text = fixture_text(fixture)
    config = yaml.safe_load(text)["model_config"]
    _, key = await make_app(text)
    body = await get_json(client, "/v1/parameters", key)
    for name in FEATURES:
        assert body[name] == config.get(name, DEFAULTS[name]), name
    assert body["user_input_form"] == config["user_input_form"]


@pytest.mark.parametrize("fixture", ["advanced_chat_v0_3_1.yml", "workflow_v0_5_0.yml"])
async def test_graph_app_parameters_from_workflow_features(
    client: httpx.AsyncClient, fixture: str
) -> None:
    text = fixture_text(fixture)
    features = yaml.safe_load(text)["workflow"]["features"]
    _, key = await make_app(text)
    body = await get_json(client, "/v1/parameters", key)
    assert set(body) == set(DEFAULTS)
    for name in FEATURES:
        assert body[name] == features.get(name, DEFAULTS[name]), name
    assert body["system_parameters"] == SYSTEM_PARAMETERS


@pytest.mark.parametrize("fixture", ["advanced_chat_v0_3_1.yml", "workflow_v0_5_0.yml"])
async def test_graph_app_user_input_form_is_old_structure(
    client: httpx.AsyncClient, fixture: str
) -> None:
    text = fixture_text(fixture)
    _, key = await make_app(text)
    body = await get_json(client, "/v1/parameters", key)
    # Workflow.user_input_form(to_old_structure=True): {variable["type"]: variable}, the
    # Start variable kept whole (its `type` key included).
    expected = [{v["type"]: v} for v in start_variables(yaml.safe_load(text))]
    assert body["user_input_form"] == expected


async def test_graph_app_start_form_shape(client: httpx.AsyncClient) -> None:
    _, key = await make_app(fixture_text("workflow_v0_5_0.yml"))
    form = (await get_json(client, "/v1/parameters", key))["user_input_form"]
    assert [next(iter(item)) for item in form] == ["paragraph", "select", "number"]
    assert [item[next(iter(item))]["variable"] for item in form] == [
        "article",
        "language",
        "max_words",
    ]
    select = form[1]["select"]
    assert select["options"] == ["English", "French", "German"]
    assert select["default"] == "English" and select["required"] is True
    assert form[0]["paragraph"]["max_length"] == 20000


# --- GET /v1/meta ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        chat_dsl(),
        chat_dsl(mode="completion"),
        fixture_text("v0_1_0_chat.yml"),
        fixture_text("workflow_v0_5_0.yml"),
    ],
)
async def test_meta_without_tools(client: httpx.AsyncClient, text: str) -> None:
    _, key = await make_app(text)
    assert await get_json(client, "/v1/meta", key) == {"tool_icons": {}}


# --- GET /v1/site ---------------------------------------------------------------------------


async def test_site_fields(client: httpx.AsyncClient) -> None:
    _, key = await make_app(chat_dsl(name="Site App"))
    body = await get_json(client, "/v1/site", key)
    assert set(body) == SITE_KEYS
    assert body["title"] == "Site App"
    assert body["description"] == "Site App for tests"
    assert (body["icon_type"], body["icon"], body["icon_background"]) == ("emoji", "🤖", "#FFEAD5")
    assert body["icon_url"] is None
    # Dify answers null for these; the seed's OpenAPI spec types them as strings (README).
    assert body["chat_color_theme"] == ""
    assert body["chat_color_theme_inverted"] is False
    assert body["copyright"] == ""
    assert body["privacy_policy"] == ""
    assert body["custom_disclaimer"] == ""
    assert body["default_language"] == "en-US"
    assert body["show_workflow_steps"] is True
    assert body["use_icon_as_answer_icon"] is False


@pytest.mark.parametrize(
    ("fixture", "answer_icon"),
    [("v0_1_3_agent_chat.yml", True), ("v0_6_0_agent_chat.yml", False)],
)
async def test_site_from_fixture(
    client: httpx.AsyncClient, fixture: str, answer_icon: bool
) -> None:
    text = fixture_text(fixture)
    info = yaml.safe_load(text)["app"]
    _, key = await make_app(text)
    body = await get_json(client, "/v1/site", key)
    assert set(body) == SITE_KEYS
    assert body["title"] == info["name"]
    assert body["description"] == info["description"]
    assert body["icon"] == info["icon"]
    assert body["icon_background"] == info["icon_background"]
    assert body["icon_type"] == "emoji"
    assert body["use_icon_as_answer_icon"] is answer_icon


# --- probes ---------------------------------------------------------------------------------


async def test_health(client: httpx.AsyncClient) -> None:
    resp = await client.get("/health")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


async def test_ready(client: httpx.AsyncClient) -> None:
    resp = await client.get("/ready")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["draining"] is False
    if os.environ.get("KILN_TEST_REDIS_URL"):
        assert body["redis"] is True
    else:
        assert "redis" not in body
