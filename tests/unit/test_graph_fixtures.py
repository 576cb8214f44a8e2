"""The graph fixtures (tests/fixtures/graphs) are well formed: every DSL file is a Dify export
that Kiln's DSL parser accepts, every case is well formed and has a golden from the oracle,
and no golden is left over. In-process and fast: no server, no database."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.services.apps.dsl import parse_dsl

GRAPHS = Path(__file__).resolve().parents[1] / "fixtures" / "graphs"
GOLDEN = GRAPHS / "golden"
NAMES = sorted(path.stem for path in GRAPHS.glob("*.yml"))
FEATURE_KEYS = {
    "file_upload",
    "opening_statement",
    "retriever_resource",
    "sensitive_word_avoidance",
    "speech_to_text",
    "suggested_questions",
    "suggested_questions_after_answer",
    "text_to_speech",
}
STATUSES = {"succeeded", "failed", "partial-succeeded"}
NODE_STATUSES = {"succeeded", "failed", "exception", "running"}
CASE_KEYS = {
    "name",
    "inputs",
    "query",
    "history",
    "conversation_variables",
    "environment",
    "model",
    "expect_status",
    "graphon_differs",
}
SELECTOR = re.compile(r"\{\{#([a-zA-Z0-9_]{1,50}(?:\.[a-zA-Z_][a-zA-Z0-9_]{0,29}){1,10})#\}\}")


def load(name: str) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    text = (GRAPHS / f"{name}.yml").read_text(encoding="utf-8")
    cases = json.loads((GRAPHS / f"{name}.cases.json").read_text(encoding="utf-8"))
    return text, yaml.safe_load(text), cases


def test_there_are_fixtures_of_both_modes_and_many_versions() -> None:
    assert len(NAMES) >= 25
    documents = [load(name)[1] for name in NAMES]
    assert {doc["app"]["mode"] for doc in documents} == {"workflow", "advanced-chat"}
    assert {doc["version"] for doc in documents} >= {"0.1.0", "0.1.5", "0.3.1", "0.5.0", "0.6.0"}


@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_a_dify_export_that_kiln_parses(name: str) -> None:
    text, doc, _ = load(name)
    assert isinstance(doc["version"], str)
    assert doc["kind"] == "app"
    assert doc["app"]["name"] and doc["app"]["mode"] in ("workflow", "advanced-chat")
    workflow = doc["workflow"]
    assert set(workflow["features"]) == FEATURE_KEYS
    assert isinstance(workflow["environment_variables"], list)
    assert isinstance(workflow["conversation_variables"], list)
    nodes = workflow["graph"]["nodes"]
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids))
    runnable = {node["id"]: node for node in nodes if node["type"] != "custom-note"}
    assert sum(1 for node in runnable.values() if node["data"]["type"] == "start") == 1
    for edge in workflow["graph"]["edges"]:
        assert edge["source"] in runnable and edge["target"] in runnable, edge["id"]
    for node in runnable.values():
        parent = node.get("parentId")
        if parent is not None:
            assert runnable[parent]["data"]["type"] in ("iteration", "loop")

    parsed = parse_dsl(text)
    assert parsed.mode == doc["app"]["mode"]
    assert parsed.version == doc["version"]
    assert parsed.name == doc["app"]["name"]


@pytest.mark.parametrize("name", NAMES)
def test_cases_are_well_formed_and_each_has_a_golden(name: str) -> None:
    _, doc, cases = load(name)
    mode = doc["app"]["mode"]
    assert cases, "a fixture needs at least one case"
    names = [case["name"] for case in cases]
    assert len(names) == len(set(names))
    for case in cases:
        assert set(case) <= CASE_KEYS, set(case) - CASE_KEYS
        assert re.fullmatch(r"[a-z0-9_]+", case["name"])
        assert isinstance(case.get("inputs", {}), dict)
        if mode == "advanced-chat":
            assert isinstance(case["query"], str)
        else:
            assert "query" not in case and "conversation_variables" not in case
        for rule in case.get("model", []):
            assert isinstance(rule["when"], str) and rule["when"]
            assert ("reply" in rule) != ("tool_call" in rule)
        for turn in case.get("history", []):
            assert set(turn) == {"query", "answer"}

        golden = json.loads((GOLDEN / f"{name}.{case['name']}.json").read_text(encoding="utf-8"))
        assert (golden["graph"], golden["case"], golden["mode"]) == (name, case["name"], mode)
        if "skipped" in golden:
            assert golden["skipped"]
            continue
        assert golden["status"] in STATUSES
        if "expect_status" in case:
            assert golden["status"] == case["expect_status"]
        assert isinstance(golden["outputs"], dict)
        assert (golden["error"] is None) == (golden["status"] != "failed")
        assert golden["not_run"] == sorted(golden["not_run"])
        assert not set(golden["not_run"]) & set(golden["nodes"])
        for record in golden["nodes"].values():
            assert record["status"] in NODE_STATUSES and record["runs"] >= 1
        calls = golden["model_calls"]
        keys = [(c["node_id"], json.dumps(c["messages"], sort_keys=True)) for c in calls]
        assert keys == sorted(keys)
        if mode == "advanced-chat":
            assert isinstance(golden["answer"], str)
            assert isinstance(golden["conversation_variables_after"], dict)
        else:
            assert "answer" not in golden


def test_no_golden_without_a_case() -> None:
    expected = {f"{name}.{case['name']}.json" for name in NAMES for case in load(name)[2]}
    assert {path.name for path in GOLDEN.glob("*.json")} == expected


def test_every_answer_selector_names_a_node_or_a_reserved_prefix_unless_meant_missing() -> None:
    """Guards typos: a selector that resolves to nothing renders as bare text, so a typo would
    silently change a golden. Only chat_templates_unresolved references missing nodes."""
    for name in NAMES:
        if name == "chat_templates_unresolved":
            continue
        _, doc, _ = load(name)
        nodes = {node["id"] for node in doc["workflow"]["graph"]["nodes"]}
        text = json.dumps(doc["workflow"]["graph"]["nodes"])
        for selector in SELECTOR.findall(text):
            head = selector.split(".")[0]
            assert head in nodes | {"sys", "env", "conversation"}, (name, selector)
