"""What `kiln apps import` says of an export's knowledge bases: every dataset id a
knowledge-retrieval node or a classic app's `dataset_configs` names must be in the
integrations file's `knowledge` section, else its retrieval fails when it runs (never a
silent empty result), and the import lists it among the `will not run` lines."""

from collections.abc import Iterator
from typing import Any

from app.core.app_mode import AppMode
from app.core.config import get_settings
from app.engine.knowledge.settings import classic_dataset_ids
from app.integrations.config import IntegrationsError, load_integrations
from app.integrations.knowledge.errors import MAPPING_HINT
from app.services.apps.dsl import ParsedDsl

NODE_TYPE = "knowledge-retrieval"


def _unmapped(ids: Any, mapped: set[str]) -> list[str]:
    if not isinstance(ids, list):
        return []
    return [str(i) for i in dict.fromkeys(ids) if i and str(i) not in mapped]


def _graph_nodes(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    workflow = document.get("workflow")
    graph = workflow.get("graph") if isinstance(workflow, dict) else None
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and data.get("type") == NODE_TYPE:
            yield str(node.get("id") or "?"), data


def knowledge_problems(parsed: ParsedDsl) -> tuple[str, ...]:
    try:
        mapped = set(load_integrations(get_settings().integrations_file).knowledge)
    except IntegrationsError as exc:
        return (f"knowledge retrieval fails: {exc}",)
    problems: list[str] = []
    if AppMode(parsed.mode).is_graph:
        for node_id, data in _graph_nodes(parsed.document):
            title = data.get("title") or node_id
            for dataset_id in _unmapped(data.get("dataset_ids"), mapped):
                problems.append(
                    f"fails when reached: node {node_id} ({title}): knowledge base "
                    f"{dataset_id} is not mapped: {MAPPING_HINT}"
                )
        return tuple(problems)
    model_config = parsed.document.get("model_config")
    if isinstance(model_config, dict):
        for dataset_id in _unmapped(list(classic_dataset_ids(model_config)), mapped):
            problems.append(
                f"dataset retrieval fails: knowledge base {dataset_id} is not mapped: "
                f"{MAPPING_HINT}"
            )
    return tuple(problems)
