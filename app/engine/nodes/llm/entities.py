"""The DSL settings model-calling nodes share (llm, question-classifier,
parameter-extractor): the model, memory and vision blocks, read once when the workflow is
built."""

from dataclasses import dataclass, field
from typing import Any

from app.engine.nodes.base import NodeConfigError

MAX_STOP_SEQUENCES = 4  # Dify keeps at most four stop sequences
SYS_FILES = ("sys", "files")


@dataclass(frozen=True, slots=True)
class ModelSettings:
    provider: str
    name: str
    mode: str  # chat | completion
    params: dict[str, Any] = field(default_factory=dict)  # completion_params without `stop`
    stop: list[str] = field(default_factory=list)

    @property
    def chat(self) -> bool:
        return self.mode != "completion"


@dataclass(frozen=True, slots=True)
class MemorySettings:
    window_enabled: bool = False
    window_size: int | None = None
    # Completion models put history in as text with these prefixes; Dify refuses to run
    # without the block (an empty prefix is allowed).
    role_prefix: tuple[str, str] | None = None  # user, assistant
    query_template: str | None = None  # None or "": the user message is `sys.query`

    @property
    def message_limit(self) -> int | None:
        """Turns of history an LLM node reads (None: all Dify would load)."""
        return self.window_size if self.window_enabled else None


@dataclass(frozen=True, slots=True)
class VisionSettings:
    enabled: bool = False
    selector: tuple[str, ...] = SYS_FILES
    detail: str = "high"


def as_dict(value: Any) -> dict[str, Any]:
    """A DSL block that should be a mapping ({} when it is missing or malformed)."""
    return value if isinstance(value, dict) else {}


def parse_model(data: dict[str, Any]) -> ModelSettings:
    model = data.get("model")
    if not isinstance(model, dict) or not model.get("provider") or not model.get("name"):
        raise NodeConfigError("the node has no model (provider and name)")
    params = dict(model.get("completion_params") or {})
    stop = params.pop("stop", None)
    stops = [str(s) for s in stop][:MAX_STOP_SEQUENCES] if isinstance(stop, list) else []
    mode = str(model.get("mode") or "chat")
    if mode not in ("chat", "completion"):
        raise NodeConfigError(f"model mode {mode!r} is not supported")
    return ModelSettings(str(model["provider"]), str(model["name"]), mode, params, stops)


def parse_memory(data: dict[str, Any]) -> MemorySettings | None:
    memory = data.get("memory")
    if not isinstance(memory, dict):
        return None
    window = as_dict(memory.get("window"))
    size = window.get("size")
    prefix = memory.get("role_prefix")
    role_prefix = None
    if isinstance(prefix, dict):
        role_prefix = (str(prefix.get("user") or ""), str(prefix.get("assistant") or ""))
    template = memory.get("query_prompt_template")
    return MemorySettings(
        window_enabled=bool(window.get("enabled")),
        window_size=int(size)
        if isinstance(size, int | float) and not isinstance(size, bool)
        else None,
        role_prefix=role_prefix,
        query_template=str(template) if template else None,
    )


def parse_vision(data: dict[str, Any]) -> VisionSettings:
    vision = data.get("vision")
    if not isinstance(vision, dict) or not vision.get("enabled"):
        return VisionSettings()
    configs = as_dict(vision.get("configs"))
    selector = configs.get("variable_selector")
    detail = configs.get("detail")
    return VisionSettings(
        enabled=True,
        selector=tuple(str(s) for s in selector)
        if isinstance(selector, list) and selector
        else SYS_FILES,
        detail=str(detail) if detail in ("low", "high") else "high",
    )


def parse_selector(value: Any, what: str) -> tuple[str, ...]:
    """A `[node_id, name, ...]` selector, or NodeConfigError naming the field."""
    if not isinstance(value, list) or len(value) < 2:
        raise NodeConfigError(f"{what} is not a variable selector")
    return tuple(str(part) for part in value)
