"""What `kiln apps import` lists of an app's tools (no database needed for these: builtin,
plugin and api references): tool nodes and agent-chat tools whose tool is not configured,
each naming provider, tool and setting; dry run noted; configured tools not listed."""

from pathlib import Path

from app.core.config import Settings
from app.services.apps.dsl import parse_dsl
from app.services.apps.tool_check import named_tools, tool_problems

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dsl"


def settings(tmp_path: Path, text: str) -> Settings:
    """A fresh file each time: the file is read once per path and process."""
    file = tmp_path / f"integrations-{len(list(tmp_path.iterdir()))}.yaml"
    file.write_text(text, encoding="utf-8")
    return Settings(integrations_file=str(file))


async def test_agent_chat_tools_are_listed(tmp_path: Path) -> None:
    parsed = parse_dsl((FIXTURES / "v0_6_0_agent_chat.yml").read_text())
    named = named_tools(parsed.document)
    assert [(where, ref.provider, ref.tool_name) for where, ref in named] == [
        ("agent tool current_time", "time", "current_time"),
        ("agent tool getOrderStatus", "order_service", "getOrderStatus"),
    ]
    [problem] = await tool_problems(parsed, settings(tmp_path, "tools: {}"))
    assert problem.startswith(
        "fails when reached: agent tool getOrderStatus: OpenAPI tool "
        "order_service/getOrderStatus is not configured: add `tools.openapi.order_service`"
    )
    [noted] = await tool_problems(parsed, settings(tmp_path, "tools: {dry_run: true}"))
    assert noted.endswith("(dry run is on: it answers a marked placeholder)")


async def test_tool_nodes_are_listed_unless_configured(tmp_path: Path) -> None:
    document = """
version: 0.3.0
kind: app
app: {name: Searcher, mode: workflow}
workflow:
  graph:
    edges: []
    nodes:
    - id: s
      data: {type: start, title: Start, variables: []}
    - id: t
      data:
        type: tool
        title: Search
        provider_type: builtin
        provider_id: langgenius/tavily/tavily
        provider_name: langgenius/tavily/tavily
        tool_name: tavily_search
        tool_parameters: {}
    - id: w
      data:
        type: tool
        title: Wiki
        provider_type: builtin
        provider_id: wikipedia
        provider_name: wikipedia
        tool_name: wikipedia_search
        tool_parameters: {}
"""
    parsed = parse_dsl(document)
    missing = await tool_problems(parsed, settings(tmp_path, "tools: {}"))
    assert len(missing) == 2
    assert "node t (Search): builtin tool tavily/tavily_search is not configured" in missing[0]
    assert "`tools.credentials.tavily.api_key`" in missing[0]
    assert "node w (Wiki): builtin tool wikipedia/wikipedia_search is not available" in missing[1]
    keyed = await tool_problems(
        parsed, settings(tmp_path, "tools: {credentials: {tavily: {api_key: k}}}")
    )
    assert len(keyed) == 1 and "wikipedia" in keyed[0]
