"""An agent-chat app's datasets as agent tools, as Dify's agent runner gives them (its
DatasetRetrieverTool and DatasetMultiRetrieverTool): Dify does not retrieve up front for
agent apps, the model calls these tools with a `query`.

- single strategy: one tool per dataset, `dataset_<id with - as _>` (or `dataset_<n>` for
  an id no provider accepts as a function name), described by the mapping's `description`
  or Dify's fallback; it asks that dataset with its own setting.
- multiple strategy: one tool over every dataset, `dataset_<app id with - as _>`,
  "dataset multi retriever and rerank. ", merged as the knowledge-retrieval node merges
  (app/engine/knowledge/retrieve.py).

A tool answers the contents, one per line; what it found is reported to `on_resources`
(classic retriever resources, for the message's `retriever_resources`). An unmapped
dataset or a failing service is a ToolError naming it."""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from app.engine.knowledge.retrieve import retrieve
from app.engine.knowledge.settings import RetrievalConfig, RetrievalConfigError, from_classic
from app.engine.knowledge.sources import classic_context, classic_resources
from app.engine.workflow.env import KnowledgeService
from app.gateway.gateway import ModelGateway
from app.integrations.knowledge.client import ExternalKnowledge
from app.integrations.knowledge.errors import KnowledgeError
from app.integrations.tools.base import (
    ToolCall,
    ToolError,
    ToolOutput,
    ToolParameter,
    ToolRef,
    ToolSpec,
)

PROVIDER_TYPE = "dataset-retrieval"
SINGLE_QUERY = "Query for the dataset to be used to retrieve the dataset."
MULTI_DESCRIPTION = "dataset multi retriever and rerank. "
MULTI_QUERY = "dataset multi retriever and rerank"
_FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

ResourceSink = Callable[[list[dict[str, Any]]], None]


def _name(raw: str, fallback: str) -> str:
    name = f"dataset_{raw.replace('-', '_')}"
    return name if _FUNCTION_NAME.match(name) else fallback


def _spec(name: str, description: str, query_help: str) -> ToolSpec:
    ref = ToolRef(PROVIDER_TYPE, "dataset", name)
    parameter = ToolParameter("query", "string", True, query_help)
    return ToolSpec(ref, name, description, (parameter,))


@dataclass(slots=True)
class DatasetTool:
    """A Tool (app/integrations/tools/base.py) retrieving from mapped knowledge bases."""

    spec: ToolSpec
    config: RetrievalConfig
    service: KnowledgeService
    gateway: ModelGateway
    on_resources: ResourceSink | None = None

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        query = arguments.get("query")
        query = query if isinstance(query, str) else "" if query is None else str(query)
        try:
            found = await retrieve(self.service, self.gateway, self.config, query)
        except (KnowledgeError, ValueError) as exc:
            raise ToolError(str(exc)) from None
        if self.on_resources is not None and found.hits:
            self.on_resources(classic_resources(found.hits))
        return ToolOutput(text=classic_context(found.hits))


def dataset_tools(
    model_config: dict[str, Any],
    app_id: str,
    service: KnowledgeService | None,
    gateway: ModelGateway,
    on_resources: ResourceSink | None = None,
) -> list[DatasetTool]:
    """The agent tools for an app's datasets (none when it names none); ToolError when
    its `dataset_configs` cannot be read. Descriptions need the mapping: an unmapped
    dataset's tool still exists, and fails when called."""
    try:
        config = from_classic(model_config)
    except RetrievalConfigError as exc:
        raise ToolError(f"dataset_configs: {exc}") from None
    if config is None:
        return []
    knowledge = service or ExternalKnowledge({})
    if config.mode == "multiple":
        name = _name(app_id, "dataset_multi")
        spec = _spec(name, MULTI_DESCRIPTION, MULTI_QUERY)
        return [DatasetTool(spec, config, knowledge, gateway, on_resources)]
    tools: list[DatasetTool] = []
    for index, dataset_id in enumerate(config.dataset_ids, start=1):
        try:
            description = knowledge.describe(dataset_id).router_description
        except KnowledgeError:
            description = f"useful for when you want to answer queries about the {dataset_id}"
        spec = _spec(_name(dataset_id, f"dataset_{index}"), description, SINGLE_QUERY)
        one = replace(config, dataset_ids=(dataset_id,))
        tools.append(DatasetTool(spec, one, knowledge, gateway, on_resources))
    return tools
