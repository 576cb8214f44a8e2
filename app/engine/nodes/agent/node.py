"""`agent`: an agent strategy run as a workflow node, as Dify's agent node runs its strategy
plugin. The built-in strategies stand in for Dify's `langgenius/agent` plugin and for
marketplace strategy plugins whose names say which one they are (nodes/agent/entities.py).

Outputs `text` (streamed as it is made, so answers relay it), `files` (what tools made),
`json` (the agent logs, then `{"data": []}`) and `usage`; inputs are the resolved
parameters; execution metadata carries `tool_info`, `agent_log` and the usage. A tool that
fails is an observation for the model, not a node failure; a tool that cannot run at all
(not configured) and a failed model call fail the node."""

import logging
import time
from typing import Any

from app.engine.agents.policy import AgentPolicy
from app.engine.agents.run import AgentRun
from app.engine.agents.strategy import STRATEGIES
from app.engine.agents.toolkit import Toolkit
from app.engine.graph.model import NodeSpec
from app.engine.nodes.agent.entities import (
    AgentNodeData,
    maximum_iterations,
    parse_data,
    parse_model,
    resolve,
)
from app.engine.nodes.agent.logs import AgentLog, NodeListener
from app.engine.nodes.agent.tools import agent_tools, enabled_items, for_log
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult, Usage
from app.engine.nodes.llm.invoke import model_error
from app.engine.nodes.llm.memory import DEFAULT_BUDGET, has_memory, history_messages
from app.engine.variables.pool import SYSTEM
from app.engine.variables.values import to_text
from app.gateway.types import GatewayError
from app.integrations.tools.base import ToolCall
from app.integrations.tools.placeholder import MARK

logger = logging.getLogger("kiln.workflow")

TOOL_TIMEOUT = 60.0  # seconds one tool call may take (less when the run ends sooner)
KNOWN_PARAMETERS = frozenset(
    {"model", "tools", "instruction", "query", "context", "maximum_iterations", "max_iterations"}
)


class AgentNode(Node):
    node_type = "agent"
    streams_text = True
    emits_events = True

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.agent: AgentNodeData = parse_data(spec.data)
        ignored = sorted(set(self.agent.parameters) - KNOWN_PARAMETERS)
        if ignored:
            logger.info(
                "agent node %s: strategy %s parameters %s are not used by the built-in %s",
                spec.id,
                self.agent.name,
                ", ".join(ignored),
                self.agent.kind,
            )

    def _parameters(self, ctx: NodeContext) -> dict[str, Any]:
        return {
            name: resolve(name, given, ctx.pool) for name, given in self.agent.parameters.items()
        }

    async def run(self, ctx: NodeContext) -> NodeResult:
        started = time.perf_counter()
        values = self._parameters(ctx)
        items = enabled_items(values.get("tools"))
        inputs = dict(values)
        if "tools" in values:
            inputs["tools"] = [for_log(item) for item in items]
        try:
            return await self._run(ctx, values, items, inputs, started)
        except NodeError as exc:
            exc.inputs = exc.inputs or inputs
            raise

    async def _run(
        self,
        ctx: NodeContext,
        values: dict[str, Any],
        items: list[dict[str, Any]],
        inputs: dict[str, Any],
        started: float,
    ) -> NodeResult:
        model = parse_model(values.get("model"))
        policy = AgentPolicy.plugin(maximum_iterations(values))
        services = ctx.workflow.services
        tools = await agent_tools(items, services.tools)
        user = to_text(ctx.pool.scope(SYSTEM).get("user_id") or "")
        timeout = min(TOOL_TIMEOUT, ctx.run.remaining())
        call = ToolCall(user, ctx.workflow.app_id, depth=ctx.workflow.call_depth, timeout=timeout)
        toolkit = Toolkit(tools, services.tools, call, policy.style, fixed_wins=policy.fixed_wins)
        history: list[dict[str, Any]] = []
        if self.agent.memory and has_memory(ctx.pool):
            window = self.agent.memory_window
            history = history_messages(ctx.workflow.history, window, DEFAULT_BUDGET)
        run = AgentRun(
            gateway=ctx.run.gateway,
            model=model,
            toolkit=toolkit,
            policy=policy,
            query=to_text(values.get("query")),
            instruction=to_text(values.get("instruction")),
            history=history,
        )
        effective = model.request(ctx.run.gateway, [])
        listener = NodeListener(
            self.agent.kind,
            model.name,
            model.provider,
            toolkit,
            policy.rounds,
            self._emitter(ctx),
            ctx.stream,
            services.save_file,
        )
        try:
            outcome = await STRATEGIES[self.agent.kind](run, listener)
        except GatewayError as exc:
            raise model_error(exc) from None
        listener.finish(outcome)
        usage = outcome.usage
        usage.provider = usage.provider or effective.provider
        usage.model = usage.model or effective.model
        usage_dict = usage.usage(time.perf_counter() - started)
        logs = listener.outputs(self.id)
        outputs: dict[str, Any] = {
            "text": "".join(listener.said),
            "usage": usage_dict,
            "files": listener.files,
            "json": [*logs, {"data": []}],
        }
        process_data: dict[str, Any] = {"notes": listener.notes} if listener.notes else {}
        if listener.placeholder:  # a dry-run answer took part: say so, as the tool node does
            outputs[MARK] = process_data[MARK] = True
        return NodeResult(
            outputs=outputs,
            inputs=inputs,
            process_data=process_data,
            usage=Usage(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                total_price=str(usage_dict.get("total_price") or "0"),
                currency=str(usage_dict.get("currency") or "USD"),
            ),
            metadata={
                "tool_info": {"icon": None, "agent_strategy": self.agent.name},
                "agent_log": logs,
            },
        )

    def _emitter(self, ctx: NodeContext) -> Any:
        def emit(log: AgentLog) -> None:
            if ctx.emit is not None:
                ctx.emit("agent_log", log.event_data(self.id, ctx.execution_id))

        return emit
