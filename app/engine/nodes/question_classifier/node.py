"""`question-classifier`: Dify's fixed few-shot prompt (prompts.py) asks the model for the
category of the query as JSON; the chosen class's id is the branch taken.

A reply naming no known category (JSON without `category_id`, or an unknown id) takes the
first class. A reply with no JSON in it at all fails the node ("could not find json block
in the output."), as Dify does since late 2024 (its 2024 releases took the first class)."""

import json
from dataclasses import dataclass
from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import Node, NodeConfigError, NodeContext, NodeError, NodeResult
from app.engine.nodes.llm.entities import parse_memory, parse_model, parse_vision
from app.engine.nodes.llm.invoke import build_request, call_model, prompts_for_saving
from app.engine.nodes.llm.memory import has_memory, memory_text, rest_tokens
from app.engine.nodes.llm.node import vision_files
from app.engine.nodes.llm.prompt import MessageTemplate, PromptBuilder, PromptTemplate
from app.engine.nodes.llm.reasoning import strip_think
from app.engine.nodes.question_classifier import prompts
from app.engine.nodes.question_classifier.parse import reply_object
from app.engine.variables.pool import MISSING
from app.engine.variables.templates import render
from app.engine.variables.values import plain
from app.gateway.tokens import count_message_tokens


@dataclass(frozen=True, slots=True)
class ClassSpec:
    id: str
    name: str
    label: str  # "" → "CLASS <n>"


def _classes(raw: Any) -> tuple[ClassSpec, ...]:
    found = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict) and entry.get("id") is not None:
            label = str(entry.get("label") or "")
            found.append(ClassSpec(str(entry["id"]), str(entry.get("name") or ""), label))
    if not found:
        raise NodeConfigError("the classifier has no classes")
    return tuple(found)


class QuestionClassifierNode(Node):
    node_type = "question-classifier"
    is_branch = True

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        data = spec.data
        self.model = parse_model(data)
        self.memory = parse_memory(data)
        self.vision = parse_vision(data)
        self.classes = _classes(data.get("classes"))
        selector = data.get("query_variable_selector")
        self.query_selector = (
            tuple(str(s) for s in selector) if isinstance(selector, list) and selector else None
        )
        self.instruction = str(data.get("instruction") or "")

    def _query(self, ctx: NodeContext) -> str | None:
        value = ctx.pool.lookup(self.query_selector) if self.query_selector else MISSING
        if value is MISSING or value is None:
            return None
        return value if isinstance(value, str) else str(plain(value))

    def _template(self, query: str, instruction: str, histories: str) -> PromptTemplate:
        categories = json.dumps(
            [{"category_id": c.id, "category_name": c.name} for c in self.classes],
            ensure_ascii=False,
        )
        fill = {
            "histories": histories,
            "input_text": query,
            "categories": categories,
            "classification_instructions": instruction,
        }
        if not self.model.chat:
            text = prompts.COMPLETION_TEMPLATE.substitute(fill)
            return PromptTemplate((), MessageTemplate("user", text))
        return PromptTemplate(
            (
                MessageTemplate("system", prompts.SYSTEM_TEMPLATE.substitute(fill)),
                MessageTemplate("user", prompts.USER_1),
                MessageTemplate("assistant", prompts.ASSISTANT_1),
                MessageTemplate("user", prompts.USER_2),
                MessageTemplate("assistant", prompts.ASSISTANT_2),
                MessageTemplate("user", prompts.USER_3_TEMPLATE.substitute(fill)),
            )
        )

    async def _histories(self, ctx: NodeContext, query: str, instruction: str) -> str:
        """History text for the system prompt, within what the model has left once the
        prompt without it is counted."""
        if self.memory is None or not has_memory(ctx.pool):
            return ""
        request = build_request(ctx, self.model)
        bare = PromptBuilder(ctx, self._template(query, instruction, ""), self.model, None, "high")
        used = count_message_tokens(await bare.run("", None, []))
        budget = rest_tokens(request.provider, request.model, request.params, used)
        return memory_text(ctx.workflow.history, self.memory.window_size, budget)

    async def run(self, ctx: NodeContext) -> NodeResult:
        pool = ctx.pool
        query = self._query(ctx)
        inputs: dict[str, Any] = {"query": query}
        instruction = render(self.instruction, pool)
        files = vision_files(pool.lookup(self.vision.selector)) if self.vision.enabled else []
        request = build_request(ctx, self.model)
        inputs.update(model_provider=request.provider, model_name=request.model)
        histories = await self._histories(ctx, query or "", instruction)
        template = self._template(query or "", instruction, histories)
        builder = PromptBuilder(ctx, template, self.model, None, self.vision.detail)
        request.messages = await builder.run("", None, files)
        reply = await call_model(ctx, request)
        process_data = {
            "model_mode": self.model.mode,
            "prompts": prompts_for_saving(self.model.mode, request.messages),
            "usage": reply.usage,
            "finish_reason": reply.finish_reason,
            "model_provider": reply.provider,
            "model_name": reply.model,
        }
        try:
            answer = reply_object(strip_think(reply.text))
        except ValueError as exc:
            raise NodeError(str(exc), type(exc).__name__, inputs=inputs) from None
        chosen, index = self.classes[0], 0
        if "category_name" in answer and "category_id" in answer:
            for position, item in enumerate(self.classes):
                if item.id == answer["category_id"]:
                    chosen, index = item, position
                    break
        outputs = {
            "class_name": render(chosen.name, pool),
            "class_label": chosen.label or f"CLASS {index + 1}",
            "class_id": chosen.id,
            "usage": reply.usage,
        }
        return NodeResult(
            outputs=outputs,
            inputs=inputs,
            process_data=process_data,
            handle=chosen.id,
            usage=reply.node_usage,
        )
