"""Single mode: which one dataset answers the query. With one dataset, that one; with
more, the model is offered one tool per dataset (named by the dataset, described by the
mapping's `description` or Dify's "useful for when you want to answer queries about the
<name>") and the first tool it calls wins, as Dify's function-call router does (system
"You are a helpful AI assistant.", the query as the user message, temperature 0.2, top_p
0.3, max_tokens 1500). A model that calls no tool, or fails, chooses nothing: Dify then
retrieves nothing, and so does Kiln (the failure is logged).

Dify uses a ReAct prompt instead for models without tool calling; Kiln knows no model's
features and always offers tools (the offline model calls the first)."""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.engine.knowledge.settings import RouterModel
from app.gateway.gateway import ModelGateway
from app.gateway.types import GatewayError, ModelRequest, ToolCall, UsageCount
from app.integrations.knowledge.records import KnowledgeBaseInfo

logger = logging.getLogger("kiln.knowledge")

SYSTEM_PROMPT = "You are a helpful AI assistant."
ROUTER_PARAMS = {"temperature": 0.2, "top_p": 0.3, "max_tokens": 1500}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Routed:
    dataset: KnowledgeBaseInfo | None
    usage: UsageCount | None = None
    provider: str = ""  # the model that answered (after KILN_MODEL_OVERRIDE)
    model: str = ""


def tool_names(datasets: Sequence[KnowledgeBaseInfo]) -> dict[str, KnowledgeBaseInfo]:
    """Tool name → dataset: the dataset id where providers accept it as a function name
    (Dify's ids are UUIDs), else `dataset_<n>` (exported ids may be 64-character
    encrypted strings with `+`, `/` and `=`)."""
    names: dict[str, KnowledgeBaseInfo] = {}
    for index, dataset in enumerate(datasets, start=1):
        name = dataset.dataset_id if _TOOL_NAME.match(dataset.dataset_id) else f"dataset_{index}"
        names.setdefault(name, dataset)
    return names


async def choose_dataset(
    gateway: ModelGateway,
    model: RouterModel | None,
    query: str,
    datasets: Sequence[KnowledgeBaseInfo],
) -> Routed:
    if not datasets:
        return Routed(None)
    if len(datasets) == 1:
        return Routed(datasets[0])
    if model is None:
        raise ValueError("single_retrieval_config is required")
    names = tool_names(datasets)
    request = gateway.effective(
        ModelRequest(
            provider=model.provider,
            model=model.name,
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": query},
            ],
            params=dict(ROUTER_PARAMS),
            mode="chat",
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": name,
                        "description": dataset.router_description,
                        "parameters": {"type": "object", "properties": {}, "required": []},
                    },
                }
                for name, dataset in names.items()
            ],
        )
    )
    chosen: KnowledgeBaseInfo | None = None
    usage: UsageCount | None = None
    try:
        async for item in gateway.stream(request):
            if isinstance(item, ToolCall) and chosen is None:
                chosen = names.get(item.name)
            elif isinstance(item, UsageCount):
                usage = item
    except GatewayError as exc:
        logger.warning("knowledge routing failed, no dataset chosen: %s", exc)
        return Routed(None, None, request.provider, request.model)
    return Routed(chosen, usage, request.provider, request.model)
