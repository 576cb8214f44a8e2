"""`llm`: a prompt rendered from its template, context, memory and vision files (prompt.py),
sent to the model through the gateway; the text relays to answers as it streams.

Outputs `text`, `reasoning_content`, `usage`, `finish_reason` (and `structured_output`
with `structured_output_enabled`). A prompt selector that does not resolve fails the node
("Variable #node.var# not found"), as Dify's LLM node does."""

from dataclasses import replace
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.knowledge.sources import node_resources
from app.engine.nodes.base import Node, NodeContext, NodeError, NodeResult
from app.engine.nodes.llm.entities import (
    as_dict,
    parse_memory,
    parse_model,
    parse_selector,
    parse_vision,
)
from app.engine.nodes.llm.invoke import build_request, call_model, prompts_for_saving
from app.engine.nodes.llm.prompt import PromptBuilder, check_variables, context_text, parse_prompt
from app.engine.nodes.llm.reasoning import ThinkFilter, split_reasoning
from app.engine.nodes.llm.structured import (
    checked_schema,
    parse_reply,
    response_format,
    with_schema_prompt,
)
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.values import FileValue, plain, segment_type, to_text

SYS_QUERY = ("sys", "query")


def vision_files(value: Any) -> list[FileValue]:
    """The files a vision selector names (none when it names nothing)."""
    kind = segment_type(value)
    if value is MISSING or kind in ("none", "array[any]"):
        return []
    if kind == "file":
        return [value]
    if kind == "array[file]":
        return list(value)
    raise NodeError(f"Invalid variable type: {kind}", "InvalidVariableTypeError")


class LLMNode(Node):
    node_type = "llm"
    streams_text = True

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        data = spec.data
        self.model = parse_model(data)
        self.prompt = parse_prompt(data)
        self.memory = parse_memory(data)
        self.vision = parse_vision(data)
        context = as_dict(data.get("context"))
        selector = context.get("variable_selector")
        self.context_selector = (
            parse_selector(selector, "the context variable")
            if context.get("enabled") and selector
            else None
        )
        switch = data.get("structured_output_enabled", data.get("structured_output_switch_on"))
        self.structured_output = data.get("structured_output")
        self.structured = bool(switch) and self.structured_output is not None
        self.separated = data.get("reasoning_format") == "separated"

    def _query(self, pool: VariablePool) -> str | None:
        """The last user message (memory only): the query template, else `sys.query`."""
        if self.memory is None:
            return None
        if self.memory.query_template:
            return self.memory.query_template
        value = pool.lookup(SYS_QUERY)
        return None if value is MISSING or value is None else to_text(value)

    def _context(self, ctx: NodeContext) -> str | None:
        """The context text; knowledge results in it are reported as the run's retriever
        resources (advanced-chat `message_end`), as Dify's LLM node reports them."""
        if self.context_selector is None:
            return None
        value = ctx.pool.lookup(self.context_selector)
        if value is MISSING:
            return None
        text = context_text(value)
        if isinstance(value, list):
            ctx.workflow.retriever_resources.append(node_resources(value))
        return text

    async def run(self, ctx: NodeContext) -> NodeResult:
        pool = ctx.pool
        inputs = check_variables(self.prompt, self.memory, pool)
        files = vision_files(pool.lookup(self.vision.selector)) if self.vision.enabled else []
        if files:
            inputs["#files#"] = [plain(f) for f in files]
        context = self._context(ctx)
        if context:
            inputs["#context#"] = context
        request = build_request(ctx, self.model)
        inputs.update(model_provider=request.provider, model_name=request.model)
        schema = checked_schema(self.structured_output) if self.structured else None
        model = replace(self.model, provider=request.provider, name=request.model)
        builder = PromptBuilder(ctx, self.prompt, model, self.memory, self.vision.detail)
        try:
            messages = await builder.run(context or "", self._query(pool), files)
        except NodeError as exc:
            exc.inputs = exc.inputs or inputs
            raise
        if schema is not None:
            if ctx.run.gateway.native_json_schema(request):
                request.response_format = response_format(schema)
            else:
                messages = with_schema_prompt(messages, schema)
        request.messages = messages

        think = ThinkFilter() if self.separated else None

        def relay(chunk: str) -> None:
            text = think.feed(chunk) if think is not None else chunk
            if text:
                ctx.stream(text)

        reply = await call_model(ctx, request, relay)
        if think is not None and (tail := think.finish()):
            ctx.stream(tail)
        text, reasoning = split_reasoning(reply.text) if self.separated else (reply.text, "")
        process_data = {
            "model_mode": self.model.mode,
            "prompts": prompts_for_saving(self.model.mode, messages),
            "usage": reply.usage,
            "finish_reason": reply.finish_reason,
            "model_provider": reply.provider,
            "model_name": reply.model,
        }
        outputs: dict[str, Any] = {
            "text": text,
            "reasoning_content": reasoning,
            "usage": reply.usage,
            "finish_reason": reply.finish_reason,
        }
        if schema is not None:
            try:
                outputs["structured_output"] = parse_reply(reply.text, schema)
            except NodeError as exc:
                exc.inputs, exc.process_data = inputs, process_data
                raise
        return NodeResult(
            outputs=outputs, inputs=inputs, process_data=process_data, usage=reply.node_usage
        )
