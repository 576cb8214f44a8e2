"""What tools an imported app names that will not run here, listed at import (`will not
run: …`): tool nodes and agent nodes' tools of graph apps and the tools of classic
agent-chat apps whose tool the operator has not configured (the tool runtime's `check`,
no I/O), and workflow tools whose target app is not imported. Each line names the
provider, the tool and the setting that would enable it."""

from typing import Any

from app.core.config import Settings, get_settings
from app.engine.nodes.agent.tools import agent_node_tools
from app.integrations.tools.base import ToolRef
from app.integrations.tools.hints import not_configured
from app.integrations.tools.runtime import ToolBox
from app.services.apps.dsl import ParsedDsl
from app.services.workflows.as_tool import find_workflow_app

DRY_RUN_NOTE = " (dry run is on: it answers a marked placeholder)"


def _ref(data: dict[str, Any]) -> ToolRef | None:
    kind, provider, tool = (data.get(k) for k in ("provider_type", "provider_id", "tool_name"))
    if not (isinstance(kind, str) and isinstance(provider, str) and isinstance(tool, str)):
        return None
    name = data.get("provider_name")
    return ToolRef(kind, provider, tool, name if isinstance(name, str) else "")


def named_tools(document: dict[str, Any]) -> list[tuple[str, ToolRef]]:
    """(where, reference) of every tool the app names."""
    found: list[tuple[str, ToolRef]] = []
    workflow = document.get("workflow")
    graph = workflow.get("graph") if isinstance(workflow, dict) else None
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        data = node.get("data") if isinstance(node, dict) else None
        if isinstance(data, dict) and data.get("type") == "tool":
            ref = _ref(data)
            if ref is not None:
                found.append((f"node {node.get('id')} ({data.get('title') or 'tool'})", ref))
        if isinstance(data, dict) and data.get("type") == "agent":
            where = f"node {node.get('id')} ({data.get('title') or 'agent'})"
            found += [(f"{where} tool {r.tool_name}", r) for r in agent_node_tools(data)]
    config = document.get("model_config")
    agent_mode = config.get("agent_mode") if isinstance(config, dict) else None
    tools = agent_mode.get("tools") if isinstance(agent_mode, dict) else None
    for item in tools if isinstance(tools, list) else []:
        if not isinstance(item, dict) or item.get("enabled") is False:
            continue
        ref = _ref(item)
        if ref is not None:
            found.append((f"agent tool {ref.tool_name}", ref))
    return found


async def tool_problems(parsed: ParsedDsl, settings: Settings | None = None) -> tuple[str, ...]:
    named = named_tools(parsed.document)
    if not named:
        return ()
    box = ToolBox.from_settings(settings or get_settings())
    note = DRY_RUN_NOTE if box.dry_run else ""
    problems: list[str] = []
    for where, ref in named:
        if ref.provider_type == "workflow":  # apps live in the database
            found = await find_workflow_app(ref, box.integrations.tools.workflows)
            reason = None if found else not_configured(ref, box.integrations)
        else:
            reason = box.check(ref)
        if reason is not None:
            problems.append(f"fails when reached: {where}: {reason}{note}")
    return tuple(problems)
