"""`tool`: one call of a tool through the run's tool runtime (`services.tools`: builtin,
OpenAPI, MCP, workflow-as-tool), outputs as Dify's: `text`, `files` (stored tool files or
remote URLs), `json` (the JSON messages; `[{"data": []}]` when there are none) and the
variables the tool set. A tool that cannot be resolved, bad arguments and a tool's own
failure fail the node (retry and error strategies apply). A dry-run placeholder answer is
marked: output `kiln_placeholder: true` and `process_data.kiln_placeholder`."""

from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult
from app.engine.nodes.tool.arguments import build_arguments
from app.engine.nodes.tool.entities import ToolNodeConfig, parse_config
from app.engine.nodes.tool.files import run_files
from app.integrations.tools.base import Tool, ToolCall, ToolError, ToolNotConfigured, ToolOutput
from app.integrations.tools.placeholder import MARK

NO_TOOLS = "Tools are not available: this run has no tool runtime"
EMPTY_JSON: list[Any] = [{"data": []}]


class ToolNode(Node):
    node_type = "tool"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.config: ToolNodeConfig = parse_config(spec.data)

    def tool_info(self) -> dict[str, Any]:
        ref = self.config.ref
        return {
            "provider_type": ref.provider_type,
            "provider_id": ref.provider_id,
            "plugin_unique_identifier": self.config.plugin_unique_identifier,
        }

    async def run(self, ctx: NodeContext) -> NodeResult:
        metadata = {"tool_info": self.tool_info()}
        tools = ctx.workflow.services.tools
        if tools is None:
            raise NodeError(NO_TOOLS, "ToolNodeError")
        try:
            tool: Tool = await tools.resolve(self.config.ref)
        except ToolError as exc:
            raise NodeError(
                f"Failed to get tool runtime: {exc.message}", type(exc).__name__
            ) from None
        arguments = build_arguments(self.config, tool.spec, ctx.pool)
        call = ToolCall(
            user_id=str(ctx.pool.get(("sys", "user_id")) or ""),
            app_id=ctx.workflow.app_id,
            depth=ctx.workflow.call_depth,
        )
        try:
            output = await tools.invoke(self.config.ref, arguments, call)
        except ToolNotConfigured as exc:
            raise NodeError(
                f"Failed to get tool runtime: {exc.message}", "ToolNotConfigured", inputs=arguments
            ) from None
        except ToolError as exc:
            raise NodeError(
                f"Failed to invoke tool: {exc.message}", "ToolInvokeError", inputs=arguments
            ) from None
        result = await self._result(ctx, output)
        result.inputs = arguments
        result.metadata = metadata
        return result

    async def _result(self, ctx: NodeContext, output: ToolOutput) -> NodeResult:
        files, notes = await run_files(output.files, ctx.workflow.services.save_file)
        outputs: dict[str, Any] = {
            "text": output.text,
            "files": files,
            "json": list(output.json) if output.json else list(EMPTY_JSON),
            **output.variables,
        }
        process_data: dict[str, Any] = {}
        if notes:
            process_data["notes"] = notes
        if output.placeholder:
            outputs[MARK] = True
            process_data[MARK] = True
        return NodeResult(outputs=outputs, process_data=process_data)
