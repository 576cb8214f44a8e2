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


def _named(parsed: ParsedDsl) -> list[tuple[str, str]]:
    """(where, dataset id) for every dataset the export names, in order."""
    named: list[tuple[str, str]] = []
    if AppMode(parsed.mode).is_graph:
        for node_id, data in _graph_nodes(parsed.document):
            where = f"fails when reached: node {node_id} ({data.get('title') or node_id})"
            ids = data.get("dataset_ids")
            for dataset_id in dict.fromkeys(ids if isinstance(ids, list) else []):
                if dataset_id:
                    named.append((where, str(dataset_id)))
        return named
    model_config = parsed.document.get("model_config")
    if isinstance(model_config, dict):
        for dataset_id in classic_dataset_ids(model_config):
            named.append(("dataset retrieval fails", dataset_id))
    return named


def _graph_nodes(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    workflow = document.get("workflow")
    graph = workflow.get("graph") if isinstance(workflow, dict) else None
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and data.get("type") == NODE_TYPE:
            yield str(node.get("id") or "?"), data


def knowledge_problems(parsed: ParsedDsl) -> tuple[str, ...]:
    named = _named(parsed)
    if not named:
        return ()
    try:
        mapped = set(load_integrations(get_settings().integrations_file).knowledge)
    except IntegrationsError as exc:
        return (f"knowledge retrieval fails: {exc}",)
    return tuple(
        f"{where}: knowledge base {dataset_id} is not mapped: {MAPPING_HINT}"
        for where, dataset_id in named
        if dataset_id not in mapped
    )
