"""`answer` (advanced-chat): its template rendered with Dify's markdown rendering. What the
client sees streams separately, in template order (app/engine/workflow/responses.py)."""

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeResult
from app.engine.variables.values import FileValue
from app.engine.workflow.responses import response_parts, response_text


class AnswerNode(Node):
    node_type = "answer"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.parts = response_parts(spec)

    async def run(self, ctx: NodeContext) -> NodeResult:
        text = response_text(self.parts, ctx.pool)
        files = []
        for part in self.parts:
            if isinstance(part, tuple):
                value = ctx.pool.get(part)
                if isinstance(value, FileValue):
                    files.append(value)
                elif isinstance(value, list):
                    files += [item for item in value if isinstance(item, FileValue)]
        return NodeResult(outputs={"answer": text, "files": files})
