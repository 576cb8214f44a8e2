"""`code` (python3, javascript): the node's variables go to user code in the sandbox
(never in this process) as native values; the returned dict is validated against the
declared `outputs` as Dify validates it (outputs.py). Every failure is a node failure, so
retry and error strategies apply."""

from collections.abc import Mapping
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.nodes.code.errors import CODE_EXECUTION_ERROR, exception_line, output_error_type
from app.engine.nodes.code.inputs import input_values, parse_variables
from app.engine.nodes.code.outputs import CodeOutputError, validate_code_outputs
from app.sandbox.errors import SandboxError

LANGUAGES = ("python3", "javascript")
OUTPUT_TYPES = frozenset(
    (
        "string",
        "number",
        "object",
        "boolean",
        "array[string]",
        "array[number]",
        "array[object]",
        "array[boolean]",
    )
)
NO_SANDBOX = "Code execution is not available: this server has no code sandbox configured"


def _declared(raw: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """The `outputs` declaration, checked: every type one a code node can return."""
    if not isinstance(raw, Mapping):
        raise NodeConfigError(f"outputs{' of ' + path if path else ''} must be a mapping")
    declared: dict[str, dict[str, Any]] = {}
    for name, config in raw.items():
        where = f"{path}.{name}" if path else str(name)
        if not isinstance(config, Mapping) or config.get("type") not in OUTPUT_TYPES:
            kind = config.get("type") if isinstance(config, Mapping) else config
            raise NodeConfigError(f"output {where!r} has an unsupported type {kind!r}")
        children = config.get("children")
        declared[str(name)] = {
            "type": config["type"],
            "children": None if children is None else _declared(children, where),
        }
    return declared


class CodeNode(Node):
    node_type = "code"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        language = spec.data.get("code_language")
        if language not in LANGUAGES:
            raise NodeConfigError(f"unsupported code language {language!r}")
        self.language: str = language
        code = spec.data.get("code")
        if not isinstance(code, str):
            raise NodeConfigError("the code node has no code")
        self.code = code
        self.variables = parse_variables(spec.data)
        raw_outputs = spec.data.get("outputs")
        self.outputs = _declared(raw_outputs) if raw_outputs is not None else {}

    async def run(self, ctx: NodeContext) -> NodeResult:
        inputs = input_values(ctx.pool, self.variables)
        sandbox = ctx.workflow.services.sandbox
        if sandbox is None:
            raise NodeError(NO_SANDBOX, CODE_EXECUTION_ERROR, inputs=inputs)
        try:
            result = await sandbox.run_code(self.language, self.code, inputs)
        except SandboxError as exc:
            raise NodeError(
                exception_line(self.language, exc.message),
                CODE_EXECUTION_ERROR,
                inputs=inputs,
                # The whole text (a traceback) for whoever reads the node's run.
                process_data={"error_detail": exc.message},
            ) from None
        try:
            outputs = validate_code_outputs(result, self.outputs)
        except CodeOutputError as exc:
            raise NodeError(str(exc), output_error_type(exc), inputs=inputs) from None
        return NodeResult(outputs=outputs, inputs=inputs)
