"""Dataset retrieval for classic chat and completion apps (`dataset_configs`), run after
input moderation and annotation reply and before the prompt is assembled (Dify's order).

The query is the user's query; a completion app with `dataset_query_variable` asks with
that input instead. The context is every hit's content, best first, one per line (an app
with datasets always has a context, empty when nothing matched: Dify then still puts the
context block in the prompt). Retriever resources are reported only when the app's
`retriever_resource` feature is on. Agent-chat apps get their datasets as agent tools in
Dify, not here."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.app_mode import AppMode
from app.engine.app_config import AppConfig
from app.engine.knowledge.metadata import metadata_condition
from app.engine.knowledge.retrieve import retrieve
from app.engine.knowledge.settings import RetrievalConfigError, from_classic
from app.engine.knowledge.sources import classic_context, classic_resources
from app.engine.workflow.env import KnowledgeService
from app.gateway.gateway import ModelGateway
from app.gateway.types import GatewayError
from app.integrations.knowledge.client import ExternalKnowledge
from app.integrations.knowledge.errors import KnowledgeError

_INPUT = re.compile(r"\{\{(\w+)\}\}")


class RetrievalFailure(GatewayError):
    """A classic app's dataset retrieval failed (Dify: a ValueError → `invalid_param`)."""


@dataclass(slots=True)
class ClassicRetrieval:
    context: str
    resources: list[dict[str, Any]] = field(default_factory=list)


def _query(config: AppConfig, inputs: dict[str, Any], query: str) -> str:
    variable = config.raw.get("dataset_query_variable")
    if config.mode is AppMode.COMPLETION and variable:
        value = inputs.get(str(variable), "")
        return "" if value is None else str(value)
    return query


def _from_inputs(inputs: dict[str, Any]) -> Callable[[str], str]:
    """Dify's classic metadata values: `{{name}}` filled from the inputs, unknown kept."""

    def fill(text: str) -> str:
        return _INPUT.sub(lambda m: str(inputs.get(m.group(1), m.group(0))), text)

    return fill


async def classic_retrieval(
    config: AppConfig,
    inputs: dict[str, Any],
    query: str,
    gateway: ModelGateway,
    service: KnowledgeService | None,
) -> ClassicRetrieval | None:
    """None when the app retrieves nothing (no enabled dataset); RetrievalFailure when a
    dataset is unmapped or its service fails."""
    try:
        settings = from_classic(config.raw)
    except RetrievalConfigError as exc:
        raise RetrievalFailure(f"dataset_configs: {exc}") from None
    if settings is None:
        return None
    asked = _query(config, inputs, query)
    condition = metadata_condition(settings.metadata, _from_inputs(inputs)) if asked else None
    try:
        found = await retrieve(
            service or ExternalKnowledge({}), gateway, settings, asked, condition
        )
    except (KnowledgeError, ValueError) as exc:
        raise RetrievalFailure(str(exc)) from None
    shown = bool(config.feature("retriever_resource").get("enabled"))
    resources = classic_resources(found.hits) if shown else []
    return ClassicRetrieval(classic_context(found.hits), resources)
