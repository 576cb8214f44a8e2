"""Annotation and moderation details where Kiln once differed from Dify (found by a spec
review): each test cites the contract line (spec, reference) or the Dify source file it
follows."""

import asyncio
import time
from typing import Any

import httpx

from tests.api.test_annotations import _create, _list
from tests.support.dsl import auth, chat_dsl, make_app
from tests.support.fake_upstream import FakeUpstream
from tests.support.sse import answer_of, parse_frames

OFFLINE = {"embedding_provider_name": "kiln", "embedding_model_name": "hash-256"}
OPENAI = {"provider": "openai", "model": "gpt-4o-mini"}


async def _job(client: httpx.AsyncClient, key: str, action: str, threshold: float = 0.9) -> None:
    body = {"score_threshold": threshold, **OFFLINE}
    resp = await client.post(f"/v1/apps/annotation-reply/{action}", json=body, headers=auth(key))
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["job_id"]
    deadline = time.monotonic() + 10
    while True:
        resp = await client.get(
            f"/v1/apps/annotation-reply/{action}/status/{job_id}", headers=auth(key)
        )
        assert resp.status_code == 200, resp.text
        status = resp.json()["job_status"]
        if status in ("completed", "error"):
            assert status == "completed", resp.text
            return
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


def _chat_body(query: str, streaming: bool = True) -> dict[str, Any]:
    return {
        "inputs": {},
        "query": query,
        "user": "review-user",
        "response_mode": "streaming" if streaming else "blocking",
        "auto_generate_name": False,
    }


async def _stream(client: httpx.AsyncClient, key: str, query: str) -> list[dict[str, Any]]:
    resp = await client.post("/v1/chat-messages", json=_chat_body(query), headers=auth(key))
    assert resp.status_code == 200, resp.text
    return [e for e in parse_frames(resp.text) if e["event"] != "ping"]


async def _stored_answer(client: httpx.AsyncClient, key: str, conversation_id: str) -> str:
    resp = await client.get(
        "/v1/messages",
        params={"conversation_id": conversation_id, "user": "review-user"},
        headers=auth(key),
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["data"][-1]["answer"])


def _keywords_rule(keywords: str = "forbidden") -> dict[str, Any]:
    return {
        "enabled": True,
        "type": "keywords",
        "config": {
            "keywords": keywords,
            "inputs_config": {"enabled": True, "preset_response": "Input refused."},
            "outputs_config": {"enabled": True, "preset_response": "Output refused."},
        },
    }


# --- list: keyword search ---------------------------------------------------------------


async def test_keyword_percent_and_underscore_are_literal(client: httpx.AsyncClient) -> None:
    """dify-api-behavior.md §10.1: "keyword = case-insensitive substring on question or
    answer". Dify (api/services/annotation_service.py, get_annotation_list_by_app_id)
    escapes the keyword with `escape_like_pattern` and uses `ilike(..., escape="\\\\")`, so
    `%` and `_` match only themselves."""
    _, key = await make_app(chat_dsl())
    await _create(client, key, "Discount?", "100% off today")
    await _create(client, key, "snake_case?", "yes")
    await _create(client, key, "Plain question", "plain answer")
    percent = await _list(client, key, keyword="%")
    assert [d["answer"] for d in percent["data"]] == ["100% off today"]
    assert percent["total"] == 1
    underscore = await _list(client, key, keyword="_")
    assert [d["question"] for d in underscore["data"]] == ["snake_case?"]
    assert underscore["total"] == 1


async def test_keyword_is_case_insensitive_beyond_ascii(client: httpx.AsyncClient) -> None:
    """§10.1: keyword search is case-insensitive (Dify: `ilike`), beyond ASCII too
    (SQLite's own `lower()` folds ASCII only)."""
    _, key = await make_app(chat_dsl())
    await _create(client, key, "Ärger mit der Öffnungszeit?", "Rufen Sie an.")
    found = await _list(client, key, keyword="ärger")
    assert found["total"] == 1
    found = await _list(client, key, keyword="ÖFFNUNGSZEIT")
    assert found["total"] == 1


async def test_annotation_id_must_be_hyphenated_uuid(client: httpx.AsyncClient) -> None:
    """dify-api-behavior.md §0: ids declared `<uuid:...>` (`annotation_id`) "do not match
    the route when malformed, so a bad UUID yields a plain 404 `not_found`"; Werkzeug's
    UUIDConverter only matches the 8-4-4-4-12 hyphenated form."""
    _, key = await make_app(chat_dsl())
    item = await _create(client, key, "q", "a")
    body = {"question": "changed", "answer": "changed"}
    for form in (item["id"].replace("-", ""), "{" + item["id"] + "}", "urn:uuid:" + item["id"]):
        resp = await client.put(f"/v1/apps/annotations/{form}", json=body, headers=auth(key))
        assert resp.status_code == 404, (form, resp.text)
        resp = await client.delete(f"/v1/apps/annotations/{form}", headers=auth(key))
        assert resp.status_code == 404, (form, resp.text)
    assert (await _list(client, key))["data"] == [item]


# --- annotation-reply settings ----------------------------------------------------------


async def test_score_threshold_outside_0_1_is_rejected(client: httpx.AsyncClient) -> None:
    """chat-app-api.openapi.json, InitialAnnotationReplySettingsRequest.score_threshold:
    `"minimum": 0, "maximum": 1` (the OpenAPI JSON is the Service API contract, spec
    README)."""
    _, key = await make_app(chat_dsl())
    for bad in (1.5, -0.1):
        body = {"score_threshold": bad, **OFFLINE}
        resp = await client.post("/v1/apps/annotation-reply/enable", json=body, headers=auth(key))
        assert resp.status_code == 400, (bad, resp.text)
        assert resp.json()["code"] == "invalid_param"
        assert resp.json()["status"] == 400


async def test_parameters_reflect_annotation_reply_setting(client: httpx.AsyncClient) -> None:
    """dify-api-behavior.md §10.2: "The app's `annotation_reply.enabled` feature flag
    reflects whether the setting exists." Dify's /parameters for chat apps reads
    `app_model_config.to_dict()`, whose `annotation_reply_dict` (api/models/model.py) is
    `{"id", "enabled": True, "score_threshold", "embedding_model": {...}}` while a setting
    exists, else `{"enabled": False}`."""
    _, key = await make_app(chat_dsl())
    await _create(client, key, "q", "a")
    await _job(client, key, "enable", 0.8)
    params = (await client.get("/v1/parameters", headers=auth(key))).json()
    reply = params["annotation_reply"]
    assert reply["enabled"] is True, reply
    assert reply["score_threshold"] == 0.8
    assert reply["embedding_model"] == OFFLINE
    await _job(client, key, "disable")
    params = (await client.get("/v1/parameters", headers=auth(key))).json()
    assert params["annotation_reply"] == {"enabled": False}


# --- chat time: moderation around direct answers ----------------------------------------


async def test_annotation_answer_passes_output_moderation(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Dify moderates the output in the task pipeline, whatever produced it
    (api/core/app/task_pipeline/easy_ui_based_generate_task_pipeline.py: on
    QueueMessageEndEvent `_handle_output_moderation_when_task_finished(content)` then a
    `message_replace`); an annotation reply is a direct output that reaches that same
    end event (dify-api-behavior.md §6.5 `message_replace`, §6.8 order: "... → output
    moderation → save → message_end")."""
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_keywords_rule()))
    await _create(client, key, "opening hours", "Our forbidden hours are 9 to 5.")
    await _job(client, key, "enable", 0.9)
    events = await _stream(client, key, "opening hours")
    end = events[-1]
    assert end["event"] == "message_end"
    assert end["metadata"]["annotation_reply"]  # the annotation answered
    assert [e["event"] for e in events][-2] == "message_replace", [e["event"] for e in events]
    assert events[-2]["answer"] == "Output refused."
    assert await _stored_answer(client, key, end["conversation_id"]) == "Output refused."
    assert not [r for r in upstream.requests if r["_path"].endswith("completions")]


async def test_agent_chat_direct_answer_uses_message_events(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Dify streams direct answers (input-moderation preset, annotation reply) through
    `AppRunner.direct_output` (api/core/app/apps/base_app_runner.py), which publishes
    `QueueLLMChunkEvent`s; the easy-UI pipeline renders those as `event: message` (only
    `QueueAgentMessageEvent` becomes `agent_message`), also for agent-chat apps
    (api/core/app/apps/agent_chat/app_runner.py calls the same `direct_output`)."""
    dsl = chat_dsl(
        mode="agent-chat",
        **OPENAI,
        agent_mode={"enabled": True, "strategy": "function_call", "tools": []},
        sensitive_word_avoidance=_keywords_rule(),
    )
    _, key = await make_app(dsl)
    events = await _stream(client, key, "something forbidden")
    assert answer_of(events) == "Input refused."
    kinds = {e["event"] for e in events} - {"message_end"}
    assert kinds == {"message"}, kinds
    assert upstream.requests == []


async def test_agent_chat_annotation_reply_uses_message_events(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Same source as above: the annotation answer of an agent-chat app is published by
    `direct_output` as `QueueLLMChunkEvent` → `event: message`."""
    dsl = chat_dsl(
        mode="agent-chat",
        **OPENAI,
        agent_mode={"enabled": True, "strategy": "function_call", "tools": []},
    )
    _, key = await make_app(dsl)
    await _create(client, key, "opening hours", "9 to 5.")
    await _job(client, key, "enable", 0.9)
    events = await _stream(client, key, "opening hours")
    assert answer_of(events) == "9 to 5."
    assert events[-1]["metadata"]["annotation_reply"]
    kinds = {e["event"] for e in events} - {"message_end"}
    assert kinds == {"message"}, kinds


async def test_stored_direct_answer_has_template_variables_removed(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """dify-api-behavior.md §6.8: "Saved answer: trimmed, template placeholders removed"
    (easy_ui_based_generate_task_pipeline.py `_save_message`:
    `PromptTemplateParser.remove_template_variables(content.strip())`, which turns
    `{{name}}` into `{name}`, api/core/prompt/utils/prompt_template_parser.py)."""
    _, key = await make_app(chat_dsl(**OPENAI))
    await _create(client, key, "support line", "Call {{support_line}} or ask {{#context#}}.")
    await _job(client, key, "enable", 0.9)
    events = await _stream(client, key, "support line")
    assert events[-1]["metadata"]["annotation_reply"]
    stored = await _stored_answer(client, key, events[-1]["conversation_id"])
    assert stored == "Call {support_line} or ask {#context#}."


async def test_moderation_config_limits_are_not_enforced_at_run_time(
    client: httpx.AsyncClient, upstream: FakeUpstream
) -> None:
    """Dify checks keyword counts / preset lengths only when the console saves a config
    (`validate_config`, api/core/moderation/keywords/keywords.py); at run time
    `ModerationFactory.__init__` (api/core/moderation/factory.py) and
    `InputModeration.check` (api/core/moderation/input_moderation.py) just run the
    moderation, and DSL import stores `model_config` unvalidated
    (api/services/app_dsl_service.py, `from_model_config_dict`)."""
    rows = "\n".join(f"k{i}" for i in range(100)) + "\nforbidden"  # 101 rows
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=_keywords_rule(rows)))
    events = await _stream(client, key, "something forbidden")
    assert events[-1]["event"] == "message_end", events[-1]
    assert answer_of(events) == "Input refused."
    long_preset = _keywords_rule()
    long_preset["config"]["inputs_config"]["preset_response"] = "No. " * 40  # 160 chars
    _, key = await make_app(chat_dsl(**OPENAI, sensitive_word_avoidance=long_preset))
    events = await _stream(client, key, "something forbidden")
    assert events[-1]["event"] == "message_end", events[-1]
    assert answer_of(events) == "No. " * 40
