"""Which built-in strategy runs a DSL's agent: the names classic `agent_mode.strategy` and
agent nodes' `agent_strategy_name` use, marketplace strategy plugins included, mapped onto
function calling or ReAct by name."""

import re
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from app.engine.agents.function_calling import run_function_calling
from app.engine.agents.react import run_react
from app.engine.agents.run import AgentRun
from app.engine.agents.steps import AgentListener, Outcome

Kind = Literal["function_calling", "react"]
Strategy = Callable[[AgentRun, AgentListener], Coroutine[Any, Any, Outcome]]
STRATEGIES: dict[Kind, Strategy] = {
    "function_calling": run_function_calling,
    "react": run_react,
}
_REACT = re.compile(r"react|\bcot\b|chain[_ -]?of[_ -]?thought", re.IGNORECASE)
_FUNCTION = re.compile(r"function[_ -]?call|\bfc\b|tool[_ -]?call", re.IGNORECASE)


class UnknownStrategy(ValueError):
    """The DSL names a strategy Kiln has no built-in match for."""


def classic_strategy(strategy: str | None, provider: str) -> Kind:
    """`agent_mode.strategy` as Dify reads it (easy_ui_based_app/agent/manager.py):
    function_call, react/cot; older configs without one get function calling on OpenAI
    and ReAct elsewhere."""
    if strategy == "function_call":
        return "function_calling"
    if strategy in ("react", "cot"):
        return "react"
    if strategy in ("router", "react_router"):
        raise UnknownStrategy(
            f"agent strategy {strategy!r} (a dataset router of old Dify versions) is not "
            "supported by Kiln; use function_call or react"
        )
    return "function_calling" if provider.rsplit("/", 1)[-1] == "openai" else "react"


def node_strategy(name: str, provider: str = "") -> Kind:
    """An agent node's strategy: Dify's own (`function_calling`, `ReAct` of
    langgenius/agent) or a marketplace plugin's whose name says which one it is
    (`mcp_sse_ReAct`, `mcp_sse_function_calling`, …)."""
    spaced = name.replace("_", " ")
    if _REACT.search(name) or _REACT.search(spaced):
        return "react"
    if _FUNCTION.search(name) or _FUNCTION.search(spaced):
        return "function_calling"
    where = f" of {provider}" if provider else ""
    raise UnknownStrategy(
        f"agent strategy {name!r}{where} has no built-in equivalent in Kiln: only function "
        "calling and ReAct strategies run (an agent node using one of them, with its "
        "parameters, can replace it in Dify before exporting)"
    )
