"""`trigger-schedule`: the entry point of a run its schedule started. It hands on the run's
inputs (Dify's `current_time`: the moment it fired, in the node's timezone) and the
system variables. When it fires is the scheduler's business (schedule.py for the times,
app/services/triggers for the firing): a schedule that cannot be read is reported at
import and never fires, so the node itself accepts any data, as Dify's does."""

from typing import Any

from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.variables.pool import SYSTEM


class TriggerScheduleNode(Node):
    node_type = "trigger-schedule"

    async def run(self, ctx: NodeContext) -> NodeResult:
        values: dict[str, Any] = dict(ctx.workflow.inputs)
        for key, value in ctx.pool.scope(SYSTEM).items():
            values[f"sys.{key}"] = value
        return NodeResult(outputs=values, inputs=dict(values))
