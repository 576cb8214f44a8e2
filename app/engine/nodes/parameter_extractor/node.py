"""`parameter-extractor`: the model fills the declared parameters from the query.

`function_call` mode (chat models) offers one tool, `extract_parameters`, whose schema is
the parameter list, after two worked examples, and reads the call's arguments; `prompt`
mode (and completion models) asks for a JSON object and reads the first one in the reply.
Outputs each parameter (its type's default when missing), `__is_success`, `__reason` and
`__usage`. An answer that does not fit is reported in `__reason`, never a failure; only a
failed model call fails the node."""

import json
import uuid
from dataclasses import replace
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult
from app.engine.nodes.llm.entities import parse_memory, parse_model, parse_selector, parse_vision
from app.engine.nodes.llm.invoke import build_request, call_model, prompts_for_saving
from app.engine.nodes.llm.memory import has_memory, memory_text, rest_tokens
from app.engine.nodes.llm.node import vision_files
from app.engine.nodes.llm.prompt import MessageTemplate, PromptBuilder, PromptTemplate
from app.engine.nodes.parameter_extractor import prompts
from app.engine.nodes.parameter_extractor.entities import parameters_schema, parse_parameters
from app.engine.nodes.parameter_extractor.result import (
    NO_RESULT,
    ExtractionProblem,
    check,
    empty_result,
    first_object,
    normalised,
)
from app.engine.variables.pool import MISSING
from app.engine.variables.templates import render
from app.engine.variables.values import plain, to_text
from app.gateway.tokens import count_message_tokens
from app.gateway.types import ToolCall

FAILED_INVOKE = "Failed to invoke model"
PROMPT_ALLOWANCE = 1000  # tokens Dify keeps free beyond the prompt when budgeting memory


def _insert_before_last_user(
    messages: list[dict[str, Any]], examples: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The examples go just before the last user message (before the last message when
    there is none, as Dify's index of -1 does)."""
    last = -1
    for index, message in enumerate(messages):
        if message.get("role") == "user":
            last = index
    return messages[:last] + examples + messages[last:]


def _tool_examples() -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = []
    for query, text, arguments in prompts.FUNCTION_CALLING_EXAMPLES:
        call_id = uuid.uuid4().hex
        call = {"name": prompts.TOOL_NAME, "arguments": json.dumps(arguments)}
        examples += [
            {"role": "user", "content": query},
            {
                "role": "assistant",
                "content": text,
                "tool_calls": [{"id": call_id, "type": "function", "function": call}],
            },
            {"role": "tool", "content": prompts.EXAMPLE_TOOL_REPLY, "tool_call_id": call_id},
            {"role": "assistant", "content": prompts.EXAMPLE_AFTER_TOOL},
        ]
    return examples


def _json_examples() -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = []
    for query, structure, answer in prompts.JSON_EXAMPLES:
        user = prompts.JSON_USER_TEMPLATE.substitute(structure=json.dumps(structure), text=query)
        examples += [
            {"role": "user", "content": user},
            {"role": "assistant", "content": json.dumps(answer)},
        ]
    return examples


def _saved_call(call: ToolCall | None) -> dict[str, Any] | None:
    if call is None:
        return None
    function = {"name": call.name, "arguments": call.arguments}
    return {"id": call.id, "type": "function", "function": function}


class ParameterExtractorNode(Node):
    node_type = "parameter-extractor"

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        data = spec.data
        self.model = parse_model(data)
        self.memory = parse_memory(data)
        self.vision = parse_vision(data)
        self.query_selector = parse_selector(data.get("query"), "the query")
        self.parameters = parse_parameters(data.get("parameters"))
        self.schema = parameters_schema(self.parameters)
        self.instruction = str(data.get("instruction") or "")
        mode = data.get("reasoning_mode") or "function_call"
        self.tool_mode = mode == "function_call" and self.model.chat

    def _template(self, query: str, instruction: str, histories: str) -> PromptTemplate:
        structure = json.dumps(self.schema)
        if self.tool_mode:
            system = prompts.FUNCTION_CALLING_SYSTEM_TEMPLATE.substitute(
                histories=histories, instruction=instruction
            )
            user = prompts.FUNCTION_CALLING_USER_TEMPLATE.substitute(
                content=query, structure=structure
            )
        elif self.model.chat:
            system = prompts.JSON_SYSTEM_TEMPLATE.substitute(
                histories=histories, instruction=instruction
            )
            user = prompts.JSON_USER_TEMPLATE.substitute(structure=structure, text=query)
        else:
            text = prompts.COMPLETION_JSON_TEMPLATE.substitute(
                histories=histories, text=query, instruction=instruction, structure=structure
            )
            return PromptTemplate((), MessageTemplate("user", text))
        return PromptTemplate((MessageTemplate("system", system), MessageTemplate("user", user)))

    async def _histories(self, ctx: NodeContext, query: str, instruction: str) -> str:
        if self.memory is None or not has_memory(ctx.pool):
            return ""
        request = build_request(ctx, self.model)
        model = replace(self.model, provider=request.provider, name=request.model)
        bare = PromptBuilder(ctx, self._template(query, instruction, ""), model, None, "high")
        used = count_message_tokens(await bare.run("", None, [])) + PROMPT_ALLOWANCE
        budget = rest_tokens(request.provider, request.model, request.params, used)
        return memory_text(ctx.workflow.history, self.memory.window_size, budget)

    async def run(self, ctx: NodeContext) -> NodeResult:
        pool = ctx.pool
        value = pool.lookup(self.query_selector)
        query = "" if value is MISSING or value is None else to_text(value)
        files = vision_files(pool.lookup(self.vision.selector)) if self.vision.enabled else []
        instruction = render(self.instruction, pool)
        request = build_request(ctx, self.model)
        inputs: dict[str, Any] = {
            "query": query,
            "files": [plain(f) for f in files],
            "parameters": [p.as_dict() for p in self.parameters],
            "instruction": self.instruction,
            "model_provider": request.provider,
            "model_name": request.model,
        }
        histories = await self._histories(ctx, query, instruction)
        model = replace(self.model, provider=request.provider, name=request.model)
        builder = PromptBuilder(
            ctx, self._template(query, instruction, histories), model, None, self.vision.detail
        )
        messages = await builder.run("", None, files)
        if self.tool_mode:
            messages = _insert_before_last_user(messages, _tool_examples())
            function = {
                "name": prompts.TOOL_NAME,
                "description": prompts.TOOL_DESCRIPTION,
                "parameters": self.schema,
            }
            request.tools = [{"type": "function", "function": function}]
        elif self.model.chat:
            messages = _insert_before_last_user(messages, _json_examples())
        request.messages = messages
        process_data: dict[str, Any] = {
            "model_mode": self.model.mode,
            "prompts": prompts_for_saving(self.model.mode, messages),
            "usage": None,
            "function": request.tools[0] if request.tools else {},
            "tool_call": None,
            "model_provider": request.provider,
            "model_name": request.model,
        }
        try:
            reply = await call_model(ctx, request)
        except NodeError as exc:  # the model call failed: Dify says so in the outputs too
            exc.outputs = {"__is_success": 0, "__reason": FAILED_INVOKE, "__error": exc.message}
            exc.inputs, exc.process_data = inputs, process_data
            raise
        call = reply.tool_calls[0] if reply.tool_calls else None
        process_data.update(usage=reply.usage, tool_call=_saved_call(call), llm_text=reply.text)
        outputs = self._outputs(reply.text, call)
        outputs["__usage"] = reply.usage
        return NodeResult(
            outputs=outputs, inputs=inputs, process_data=process_data, usage=reply.node_usage
        )

    def _outputs(self, text: str, call: ToolCall | None) -> dict[str, Any]:
        reason: str | None = None
        if call is not None:
            result = first_object(call.arguments) if call.arguments else None
        else:
            result = first_object(text)
            if not result:
                result, reason = empty_result(self.parameters), NO_RESULT
        try:
            check(self.parameters, result or {})
        except ExtractionProblem as problem:
            reason = str(problem)
        return {
            "__is_success": 0 if reason else 1,
            "__reason": reason,
            **normalised(self.parameters, result or {}),
        }
