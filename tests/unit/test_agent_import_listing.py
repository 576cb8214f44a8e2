"""`kiln apps import` lists the tools an agent node names that are not configured, and an
agent node whose strategy has no built-in equivalent, before any run."""

from pathlib import Path

from app.core.config import Settings
from app.services.apps.dsl import parse_dsl
from app.services.apps.importer import graph_problems
from app.services.apps.tool_check import named_tools, tool_problems

DOCUMENT = """
version: 0.3.0
kind: app
app: {name: Agents, mode: advanced-chat}
workflow:
  features: {}
  graph:
    edges: []
    nodes:
    - id: s
      data: {type: start, title: Start, variables: []}
    - id: a
      data:
        type: agent
        title: Helper
        agent_strategy_provider_name: langgenius/agent/agent
        agent_strategy_name: function_calling
        agent_parameters:
          tools:
            type: constant
            value:
            - {enabled: true, type: builtin, provider_name: time, tool_name: current_time}
            - {enabled: true, type: api, provider_name: orders, tool_name: getOrder}
            - {enabled: false, type: api, provider_name: orders, tool_name: cancelOrder}
    - id: b
      data:
        type: agent
        title: Planner
        agent_strategy_provider_name: someone/planner/planner
        agent_strategy_name: plan_and_execute
        agent_parameters: {}
"""


async def test_agent_node_tools_and_strategies_are_listed(tmp_path: Path) -> None:
    parsed = parse_dsl(DOCUMENT)
    named = [(where, ref.provider, ref.tool_name) for where, ref in named_tools(parsed.document)]
    assert named == [
        ("node a (Helper) tool current_time", "time", "current_time"),
        ("node a (Helper) tool getOrder", "orders", "getOrder"),
    ]
    file = tmp_path / "integrations.yaml"
    file.write_text("tools: {}", encoding="utf-8")
    [problem] = await tool_problems(parsed, Settings(integrations_file=str(file)))
    assert problem.startswith("fails when reached: node a (Helper) tool getOrder: OpenAPI tool")
    [strategy] = [p for p in graph_problems(parsed) if "plan_and_execute" in p]
    assert "someone/planner/planner" in strategy and strategy.startswith("fails when reached")
