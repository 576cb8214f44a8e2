"""An agent node's DSL data as Dify exports it: the strategy (provider, name, label), the
strategy's parameters (`agent_parameters: {name: {type, value}}`: the model selector, the
tools list, instruction, query, maximum iterations…), `memory` and `output_schema`.
Parameters are resolved as Dify does: `variable` reads a selector; `constant` and `mixed`
render `{{#…#}}` templates (non-string values through their JSON text)."""

import json
from dataclasses import dataclass, field
from typing import Any

from app.engine.agents.model import AgentModel
from app.engine.agents.strategy import Kind, UnknownStrategy, node_strategy
from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.llm.entities import MAX_STOP_SEQUENCES, as_dict
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.templates import render

DEFAULT_MAXIMUM_ITERATIONS = 3  # the strategy plugin's default
ITERATION_KEYS = ("maximum_iterations", "max_iterations", "max_iteration")


@dataclass(frozen=True, slots=True)
class AgentInput:
    type: str  # variable | constant | mixed
    value: Any


@dataclass(frozen=True, slots=True)
class AgentNodeData:
    provider: str  # agent_strategy_provider_name
    name: str  # agent_strategy_name
    label: str
    kind: Kind
    parameters: dict[str, AgentInput]
    memory_window: int | None  # turns of history; None: all (Dify: `memory.window.size`)
    memory: bool
    output_schema: dict[str, Any] = field(default_factory=dict)


def parse_data(data: dict[str, Any]) -> AgentNodeData:
    name = str(data.get("agent_strategy_name") or "")
    provider = str(data.get("agent_strategy_provider_name") or "")
    if not name:
        raise NodeConfigError("the agent node names no strategy (agent_strategy_name)")
    try:
        kind = node_strategy(name, provider)
    except UnknownStrategy as exc:
        raise NodeConfigError(str(exc)) from None
    parameters: dict[str, AgentInput] = {}
    for key, raw in as_dict(data.get("agent_parameters")).items():
        if not isinstance(raw, dict):
            continue
        kind_of = str(raw.get("type") or "constant")
        if kind_of not in ("variable", "constant", "mixed"):
            raise NodeConfigError(f"agent parameter {key!r} has unknown input type {kind_of!r}")
        parameters[str(key)] = AgentInput(kind_of, raw.get("value"))
    memory = data.get("memory")
    window = as_dict(as_dict(memory).get("window"))
    size = window.get("size")
    return AgentNodeData(
        provider=provider,
        name=name,
        label=str(data.get("agent_strategy_label") or name),
        kind=kind,
        parameters=parameters,
        memory_window=int(size) if isinstance(size, int | float) and size > 0 else None,
        memory=isinstance(memory, dict),
        output_schema=as_dict(data.get("output_schema")),
    )


def resolve(parameter: str, given: AgentInput, pool: VariablePool) -> Any:
    """A parameter's value for this run (NodeError when its variable does not exist)."""
    if given.type == "variable":
        selector = given.value if isinstance(given.value, list) else []
        value = pool.lookup([str(part) for part in selector])
        if value is MISSING:
            raise NodeError(f"Variable {given.value} does not exist", "AgentVariableNotFoundError")
        return value
    if isinstance(given.value, str):
        return render(given.value, pool)
    try:
        text = json.dumps(given.value, ensure_ascii=False)
    except (TypeError, ValueError):
        return given.value
    rendered = render(text, pool)
    try:
        return json.loads(rendered)
    except ValueError:
        return rendered


def parse_model(value: Any) -> AgentModel:
    """The `model` parameter (a model selector)."""
    if not isinstance(value, dict) or not value.get("provider"):
        raise NodeError("The agent node has no model selected", "AgentParameterError")
    name = value.get("model") or value.get("name")
    if not name:
        raise NodeError("The agent node has no model selected", "AgentParameterError")
    params = dict(as_dict(value.get("completion_params")))
    stop = params.pop("stop", None)
    stops = tuple(str(s) for s in stop)[:MAX_STOP_SEQUENCES] if isinstance(stop, list) else ()
    mode = str(value.get("mode") or "chat")
    return AgentModel(str(value["provider"]), str(name), mode, params, stops)


def maximum_iterations(values: dict[str, Any]) -> int:
    for key in ITERATION_KEYS:
        value = values.get(key)
        if value is None or value == "":
            continue
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise NodeError(
                f"Invalid parameter {key}: {value!r} is not a number", "AgentParameterError"
            ) from None
    return DEFAULT_MAXIMUM_ITERATIONS
