"""`kiln apps import` as an operator runs it, with `KILN_INTEGRATIONS_FILE` mapping one of
an export's two knowledge bases: the import succeeds and its `will not run` lines name the
unmapped one and the setting that would map it."""

from pathlib import Path

import yaml

from tests.test_cli import kiln, kiln_env, ok

MAPPED = "a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
UNMAPPED = "kJ8vQ2+mN5pR7tW9yB1dF3hK6nP8sU0wZ2cE4gI6=lO9qT1vX3zA5cE7gI9kM1o"


def chatflow() -> str:
    node = {
        "type": "knowledge-retrieval",
        "title": "Search docs",
        "query_variable_selector": ["sys", "query"],
        "dataset_ids": [MAPPED, UNMAPPED],
        "retrieval_mode": "multiple",
        "multiple_retrieval_config": {"top_k": 4},
    }
    document = {
        "version": "0.3.0",
        "kind": "app",
        "app": {"name": "Docs Bot", "mode": "advanced-chat"},
        "workflow": {
            "graph": {
                "nodes": [
                    {"id": "start", "data": {"type": "start", "title": "Start", "variables": []}},
                    {"id": "1720000000000", "data": node},
                    {"id": "answer", "data": {"type": "answer", "title": "Answer", "answer": "x"}},
                ],
                "edges": [
                    {"id": "a", "source": "start", "target": "1720000000000"},
                    {"id": "b", "source": "1720000000000", "target": "answer"},
                ],
            },
            "features": {},
        },
    }
    return yaml.safe_dump(document)


def test_import_warns_about_an_unmapped_knowledge_base(tmp_path: Path) -> None:
    integrations = tmp_path / "integrations.yml"
    integrations.write_text(
        f"knowledge:\n  '{MAPPED}':\n    endpoint: https://kb.example/api\n    api_key: k\n"
    )
    export = tmp_path / "docs.yml"
    export.write_text(chatflow())
    env = kiln_env(f"sqlite:///{tmp_path / 'kiln.db'}")
    env["KILN_INTEGRATIONS_FILE"] = str(integrations)
    ok(kiln(env, "migrate"))
    result = kiln(env, "apps", "import", str(export))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("will not run:")]
    assert lines == [
        f"will not run: fails when reached: node 1720000000000 (Search docs): knowledge base "
        f"{UNMAPPED} is not mapped: add it to the integrations file's `knowledge` section"
    ]
