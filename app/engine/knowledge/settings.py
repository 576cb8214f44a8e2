"""How a retrieval is configured, read from a knowledge-retrieval node's data or a classic
app's `dataset_configs` (Dify's DatasetRetrieveConfigEntity): the datasets, single or
multiple mode, top-k and threshold, reranking (a rerank model; weighted scores are read,
not applied: see retrieve.py), the metadata filter, and the model single mode routes
with."""

from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_TOP_K = 4  # Dify's default retrieval model and `dataset_configs` default

RetrievalMode = Literal["single", "multiple"]
FilterMode = Literal["disabled", "automatic", "manual"]
OPERATORS = (
    "contains",
    "not contains",
    "start with",
    "end with",
    "is",
    "is not",
    "empty",
    "not empty",
    "in",
    "not in",
    "=",
    "≠",
    ">",
    "<",
    "≥",
    "≤",
    "before",
    "after",
)


class RetrievalConfigError(ValueError):
    """The retrieval settings cannot be read; the message names the field."""


@dataclass(frozen=True, slots=True)
class RouterModel:
    """The model single mode asks which dataset fits the query."""

    provider: str
    name: str
    mode: str = "chat"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RerankModel:
    """The rerank model multiple mode scores the merged records with."""

    provider: str
    model: str


@dataclass(frozen=True, slots=True)
class MetadataCondition:
    name: str
    comparison_operator: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class MetadataFilter:
    mode: FilterMode = "disabled"
    logical_operator: str = "and"
    # None: no `metadata_filtering_conditions` block (manual mode then sends nothing).
    conditions: tuple[MetadataCondition, ...] | None = None


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    dataset_ids: tuple[str, ...]
    mode: RetrievalMode = "multiple"
    top_k: int = DEFAULT_TOP_K  # multiple mode: records kept over all datasets
    score_threshold: float | None = None  # None: the threshold is off
    reranking_enable: bool = False
    reranking_mode: str = "reranking_model"
    reranking_model: RerankModel | None = None
    router: RouterModel | None = None  # single mode
    metadata: MetadataFilter = field(default_factory=MetadataFilter)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RetrievalConfigError(f"{what} is not a number")
    try:
        return float(value)
    except ValueError:
        raise RetrievalConfigError(f"{what} is not a number") from None


def _top_k(value: Any, what: str) -> int:
    number = _number(value, what)
    return DEFAULT_TOP_K if number is None else max(int(number), 0)


def router_model(value: Any) -> RouterModel | None:
    """A `{provider, name, mode, completion_params}` block, or None when it names none."""
    model = _dict(value)
    if not model.get("provider") or not model.get("name"):
        return None
    params = dict(_dict(model.get("completion_params")))
    params.pop("stop", None)
    return RouterModel(
        str(model["provider"]), str(model["name"]), str(model.get("mode") or "chat"), params
    )


def rerank_model(value: Any) -> RerankModel | None:
    """`{provider, model}` (a node) or `{reranking_provider_name, reranking_model_name}`
    (a classic app; Dify reads both spellings in both); None when it names none."""
    block = _dict(value)
    provider = block.get("provider") or block.get("reranking_provider_name")
    model = block.get("model") or block.get("reranking_model_name")
    return RerankModel(str(provider), str(model)) if provider and model else None


def metadata_filter(mode: Any, block: Any) -> MetadataFilter:
    chosen = str(mode or "disabled")
    if chosen not in ("disabled", "automatic", "manual"):
        raise RetrievalConfigError(f"metadata_filtering_mode {chosen!r} is not supported")
    data = _dict(block)
    operator = str(data.get("logical_operator") or "and")
    if operator not in ("and", "or"):
        raise RetrievalConfigError(f"logical_operator {operator!r} is not and/or")
    conditions: tuple[MetadataCondition, ...] | None = None
    if isinstance(block, dict):
        items: list[MetadataCondition] = []
        for raw in data.get("conditions") or []:
            item = _dict(raw)
            comparison = str(item.get("comparison_operator") or "")
            if comparison not in OPERATORS:
                raise RetrievalConfigError(f"comparison_operator {comparison!r} is not supported")
            items.append(
                MetadataCondition(str(item.get("name") or ""), comparison, item.get("value"))
            )
        conditions = tuple(items)
    return MetadataFilter(chosen, operator, conditions)  # type: ignore[arg-type]


def from_node(data: dict[str, Any]) -> RetrievalConfig:
    """A knowledge-retrieval node's data (Dify's KnowledgeRetrievalNodeData)."""
    ids = data.get("dataset_ids")
    if not isinstance(ids, list):
        raise RetrievalConfigError("dataset_ids is not a list")
    mode = data.get("retrieval_mode")
    if mode not in ("single", "multiple"):
        raise RetrievalConfigError(f"retrieval_mode {mode!r} is not single or multiple")
    metadata = metadata_filter(
        data.get("metadata_filtering_mode"), data.get("metadata_filtering_conditions")
    )
    dataset_ids = tuple(dict.fromkeys(str(i) for i in ids if i))
    if mode == "single":
        single = _dict(data.get("single_retrieval_config"))
        return RetrievalConfig(
            dataset_ids, "single", router=router_model(single.get("model")), metadata=metadata
        )
    multiple = data.get("multiple_retrieval_config")
    if not isinstance(multiple, dict):
        raise RetrievalConfigError("multiple_retrieval_config is required")
    return RetrievalConfig(
        dataset_ids,
        "multiple",
        top_k=_top_k(multiple.get("top_k"), "top_k"),
        score_threshold=_number(multiple.get("score_threshold"), "score_threshold"),
        reranking_enable=bool(multiple.get("reranking_enable", True)),
        reranking_mode=str(multiple.get("reranking_mode") or "reranking_model"),
        reranking_model=rerank_model(multiple.get("reranking_model")),
        metadata=metadata,
    )


def classic_dataset_ids(model_config: dict[str, Any]) -> tuple[str, ...]:
    """The datasets a classic app retrieves from (Dify's DatasetConfigManager): the enabled
    `dataset_configs.datasets.datasets[].dataset` entries, and legacy `{dataset: {enabled,
    id}}` items of an enabled `agent_mode.tools`."""
    ids: list[str] = []
    configs = _dict(model_config.get("dataset_configs"))
    for item in _dict(configs.get("datasets")).get("datasets") or []:
        entry = _dict(_dict(item).get("dataset"))
        if entry.get("enabled") and entry.get("id"):
            ids.append(str(entry["id"]))
    agent = _dict(model_config.get("agent_mode"))
    if agent.get("enabled"):
        for tool in agent.get("tools") or []:
            if isinstance(tool, dict) and list(tool) == ["dataset"]:
                entry = _dict(tool["dataset"])
                if entry.get("enabled") and entry.get("id"):
                    ids.append(str(entry["id"]))
    return tuple(dict.fromkeys(ids))


def from_classic(model_config: dict[str, Any]) -> RetrievalConfig | None:
    """A classic app's retrieval (None when it names no dataset); single mode routes with
    the app's own model, as Dify does."""
    ids = classic_dataset_ids(model_config)
    if not ids:
        return None
    configs = _dict(model_config.get("dataset_configs")) or {"retrieval_model": "multiple"}
    metadata = metadata_filter(
        configs.get("metadata_filtering_mode"), configs.get("metadata_filtering_conditions")
    )
    if configs.get("retrieval_model") == "single":
        return RetrievalConfig(
            ids, "single", router=router_model(model_config.get("model")), metadata=metadata
        )
    threshold = (
        _number(configs.get("score_threshold"), "score_threshold")
        if configs.get("score_threshold_enabled")
        else None
    )
    return RetrievalConfig(
        ids,
        "multiple",
        top_k=_top_k(configs.get("top_k"), "top_k"),
        score_threshold=threshold,
        reranking_enable=bool(configs.get("reranking_enabled", configs.get("reranking_enable"))),
        reranking_mode=str(configs.get("reranking_mode") or "reranking_model"),
        reranking_model=rerank_model(configs.get("reranking_model")),
        metadata=metadata,
    )
