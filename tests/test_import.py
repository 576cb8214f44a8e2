"""DSL import through `app.services.apps.importer.import_app`: every valid fixture is stored whole,
every bad one is refused with a message that names the problem and leaves nothing behind;
API keys are `app-` + 24 alphanumerics and only their SHA-256 digest is stored."""

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlmodel import SQLModel
from sqlmodel import select as model_select

from app.core.db import get_engine, session_scope
from app.models import ApiToken, App
from app.services.apps.auth import app_for_key
from app.services.apps.dsl import DslError
from app.services.apps.importer import import_app
from app.services.apps.keys import create_key, list_apps

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dsl"
KEY = re.compile(r"app-[A-Za-z0-9]{24}")

VALID = {
    "advanced_chat_v0_3_1.yml": ("advanced-chat", "Help Desk Chatflow", "0.3.1"),
    "no_version_chat.yml": ("chat", "Interview Coach", "0.1.0"),
    "unknown_keys_chat.yml": ("chat", "Glossary Bot", "0.3.1"),
    "v0_1_0_chat.yml": ("chat", "Travel Phrasebook", "0.1.0"),
    "v0_1_2_completion.yml": ("completion", "Release Notes Writer", "0.1.2"),
    "v0_1_3_agent_chat.yml": ("agent-chat", "Research Helper", "0.1.3"),
    "v0_1_5_chat.yml": ("chat", "Meeting Notes Assistant", "0.1.5"),
    "v0_1_5_chat_plugin.yml": ("chat", "Onboarding Buddy", "0.1.5"),
    "v0_2_0_completion.yml": ("completion", "SQL Drafter", "0.2.0"),
    "v0_3_0_agent_chat.yml": ("agent-chat", "Trivia Host", "0.3.0"),
    "v0_3_1_chat.yml": ("chat", "Support Triage", "0.3.1"),
    "v0_4_0_completion.yml": ("completion", "Contract Clause Explainer", "0.4.0"),
    "v0_5_0_chat.yml": ("chat", "Recipe Coach", "0.5.0"),
    "v0_6_0_agent_chat.yml": ("agent-chat", "Order Desk Agent", "0.6.0"),
    "workflow_v0_5_0.yml": ("workflow", "Article Summariser", "0.5.0"),
    "workflow_triggers_v0_5_0.yml": ("workflow", "Order Desk", "0.5.0"),
    "wrapped_data_chat.json": ("chat", "Haiku Buddy", "0.5.0"),
    "wrapped_data_chat.yml": ("chat", "Haiku Buddy", "0.5.0"),
}
BAD = {
    "not_mapping.yml": r"content must be a mapping",
    "no_app.yml": r"Missing app data",
    "unknown_mode.yml": r"(?i)invalid app mode.*chatbot",
    "chat_missing_model_config.yml": r"(?i)missing model_config",
    "workflow_missing_workflow.yml": r"(?i)missing workflow",
    "unquoted_version.yml": r"Invalid version type",
    "invalid_yaml.yml": r"(?i)invalid yaml",
    "app_missing_mode.yml": r"(?i)(missing|loss) app mode",
}


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def source_document(name: str) -> dict[str, Any]:
    """The document a fixture holds, unwrapped from `{"data": "<yaml>"}` when wrapped."""
    text = read(name)
    content = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    if set(content) == {"data"}:
        content = yaml.safe_load(content["data"])
    assert isinstance(content, dict)
    return content


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def lookup(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


async def stored(app_id: str) -> App:
    async with session_scope() as session:
        app = await session.get(App, app_id)
    assert app is not None
    return app


async def count(model: type[SQLModel]) -> int:
    async with get_engine().connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(model))).scalar())


def test_fixture_lists_are_complete() -> None:
    valid = {p.name for p in FIXTURES.iterdir() if p.suffix in (".yml", ".json")}
    assert valid == set(VALID)
    assert {p.name for p in (FIXTURES / "bad").iterdir()} == set(BAD)


@pytest.mark.parametrize("name", sorted(VALID))
async def test_valid_fixture_imports(database: str, name: str) -> None:
    mode, title, version = VALID[name]
    imported = await import_app(read(name))
    assert (imported.app.mode, imported.app.name, imported.app.dsl_version) == (
        mode,
        title,
        version,
    )
    assert imported.api_key is not None and KEY.fullmatch(imported.api_key)
    listed = {app.id: app for app in await list_apps()}
    assert imported.app.id in listed
    assert (listed[imported.app.id].mode, listed[imported.app.id].name) == (mode, title)
    row = await stored(imported.app.id)
    assert (row.mode, row.name, row.dsl_version) == (mode, title, version)
    assert row.dsl["kind"] == "app"
    source = source_document(name)
    source["kind"] = "app"
    for path, value in leaves(source):
        assert lookup(row.dsl, path) == value, path


async def test_missing_version_reads_as_0_1_0_and_kind_is_forced(database: str) -> None:
    source = source_document("no_version_chat.yml")
    assert "version" not in source and "kind" not in source
    imported = await import_app(read("no_version_chat.yml"))
    row = await stored(imported.app.id)
    assert row.dsl_version == "0.1.0"
    assert row.dsl["kind"] == "app"
    assert row.dsl["app"] == source["app"]


async def test_wrapped_json_and_yaml_import_identically(database: str) -> None:
    from_json = await stored((await import_app(read("wrapped_data_chat.json"))).app.id)
    from_yaml = await stored((await import_app(read("wrapped_data_chat.yml"))).app.id)
    assert from_json.dsl == from_yaml.dsl
    assert set(from_json.dsl) >= {"app", "kind", "version", "model_config", "dependencies"}
    assert "data" not in from_json.dsl
    assert from_json.icon == from_yaml.icon == "🌸"
    assert from_json.icon_background == "#FBE8FF"


async def test_unknown_keys_are_kept(database: str) -> None:
    imported = await import_app(read("unknown_keys_chat.yml"))
    dsl = (await stored(imported.app.id)).dsl
    assert dsl["metadata"] == {
        "exported_at": "2025-07-21T08:14:05Z",
        "exported_by": "platform-team",
        "source_instance": "https://dify.example.internal",
    }
    assert dsl["app"]["tags"] == ["internal", "docs"]
    assert dsl["app"]["icon_type"] == "emoji"
    config = dsl["model_config"]
    assert "external_retrieval_model" in config and config["external_retrieval_model"] is None
    assert config["voice_input_hints"] == {"enabled": False, "phrases": []}
    assert config["model"]["model_id"] == "gpt-4o-mini"
    assert config["model"]["completion_params"]["response_format"] == "text"
    assert config["model"]["completion_params"]["seed"] == 7
    assert config["suggested_questions_after_answer"] == {
        "enabled": False,
        "model": None,
        "prompt": "",
    }
    field = config["user_input_form"][0]["text-input"]
    assert (field["hint"], field["placeholder"]) == ("How should I address you?", "e.g. Sam")


async def test_graph_extra_keys_are_kept(database: str) -> None:
    chatflow = (await stored((await import_app(read("advanced_chat_v0_3_1.yml"))).app.id)).dsl
    assert chatflow["workflow"]["rag_pipeline_variables"] == []
    nodes = {n["data"]["type"]: n for n in chatflow["workflow"]["graph"]["nodes"]}
    assert nodes["llm"]["data"]["reasoning_format"] == "tagged"
    assert {"hint", "placeholder"} <= set(nodes["start"]["data"]["variables"][0])
    notes = [n for n in chatflow["workflow"]["graph"]["nodes"] if n.get("type") == "custom-note"]
    assert len(notes) == 1
    assert notes[0]["data"]["author"] == "Kiln"
    assert notes[0]["data"]["theme"] == "blue"
    assert notes[0]["data"]["showAuthor"] is True

    workflow = (await stored((await import_app(read("workflow_v0_5_0.yml"))).app.id)).dsl
    assert workflow["workflow"]["rag_pipeline_variables"] == []
    nodes = {n["data"]["type"]: n for n in workflow["workflow"]["graph"]["nodes"]}
    assert nodes["llm"]["data"]["retry_config"] == {
        "max_retries": 3,
        "retry_enabled": False,
        "retry_interval": 1000,
    }
    assert nodes["llm"]["data"]["structured_output_enabled"] is False
    article, language = nodes["start"]["data"]["variables"][:2]
    assert article["placeholder"] == "Paste the article text"
    assert (language["default"], language["hint"]) == ("English", "")


@pytest.mark.parametrize("name", sorted(BAD))
async def test_bad_fixture_is_refused_and_nothing_stored(database: str, name: str) -> None:
    apps_before, tokens_before = await count(App), await count(ApiToken)
    with pytest.raises(DslError, match=BAD[name]) as caught:
        await import_app(read(f"bad/{name}"))
    assert isinstance(caught.value, ValueError)
    assert await count(App) == apps_before
    assert await count(ApiToken) == tokens_before


async def test_api_keys_are_stored_only_as_digests(database: str) -> None:
    first = await import_app(read("v0_5_0_chat.yml"))
    second = await import_app(read("v0_5_0_chat.yml"))
    assert first.api_key and second.api_key
    assert first.api_key != second.api_key
    extra = await create_key(first.app.id)
    keys = [first.api_key, second.api_key, extra]
    for key in keys:
        assert KEY.fullmatch(key), key
    assert len(set(keys)) == 3

    async with session_scope() as session:
        statement = model_select(ApiToken).where(ApiToken.app_id == first.app.id)
        tokens = list((await session.exec(statement)).all())
    digests = {hashlib.sha256(k.encode()).hexdigest() for k in (first.api_key, extra)}
    assert {t.token_hash for t in tokens} == digests
    assert all(t.type == "app" for t in tokens)

    async with get_engine().connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                text = " ".join(str(value) for value in row)
                for key in keys:
                    assert key not in text, f"{table.name} holds an API key"

    owners = [first.app.id, second.app.id, first.app.id]
    for key, owner in zip(keys, owners, strict=True):
        found = await app_for_key(key)
        assert found is not None and found.id == owner
    flipped = extra[:-1] + ("A" if extra[-1] != "A" else "B")
    assert await app_for_key(flipped) is None
    assert await app_for_key(hashlib.sha256(extra.encode()).hexdigest()) is None


async def test_create_key_for_unknown_app(database: str) -> None:
    tokens_before = await count(ApiToken)
    with pytest.raises(LookupError):
        await create_key("00000000-0000-0000-0000-00000000beef")
    assert await count(ApiToken) == tokens_before
