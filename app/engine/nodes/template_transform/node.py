"""`template-transform`: a Jinja2 template rendered in the sandbox with the node's
variables (`render(**variables)`, no autoescape, as Dify's sandbox renders it). A missing
variable is None, so it renders as `None`, as in Dify; the output is capped in length."""

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.nodes.code.inputs import input_values, parse_variables
from app.sandbox.errors import SandboxError

NO_SANDBOX = "Template rendering is not available: this server has no code sandbox configured"
NO_ERROR_TYPE = ""  # Dify reports template failures without an error type


class TemplateTransformNode(Node):
    node_type = "template-transform"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        template = spec.data.get("template", "")
        if template is None:
            template = ""
        if not isinstance(template, str):
            raise NodeConfigError("the template must be text")
        self.template = template
        self.variables = parse_variables(spec.data)

    async def run(self, ctx: NodeContext) -> NodeResult:
        inputs = input_values(ctx.pool, self.variables)
        sandbox = ctx.workflow.services.sandbox
        if sandbox is None:
            raise NodeError(NO_SANDBOX, NO_ERROR_TYPE, inputs=inputs)
        try:
            output = await sandbox.render_template(self.template, inputs)
        except SandboxError as exc:
            raise NodeError(exc.message, NO_ERROR_TYPE, inputs=inputs) from None
        limit = ctx.workflow.limits.template_max_length
        if len(output) > limit:
            raise NodeError(
                f"Output length exceeds {limit} characters", NO_ERROR_TYPE, inputs=inputs
            )
        return NodeResult(outputs={"output": output}, inputs=inputs)
