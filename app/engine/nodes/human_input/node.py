"""The human-input node (Dify's HumanInputNode): the first time a run reaches it, the run
pauses with a form to fill in; once a person submits it (or it times out), the run
resumes and the node finishes along the chosen action's handle, its outputs the submitted
values plus `__action_id`, `__action_value` and `__rendered_content`."""

from typing import Any

from app.engine.graph.model import NodeSpec
from app.engine.nodes.base import (
    Node,
    NodeContext,
    NodeError,
    NodePaused,
    NodeResult,
)
from app.engine.nodes.human_input.entities import (
    ACTION_ID,
    ACTION_VALUE,
    OUTPUT_PLACEHOLDER,
    RENDERED,
    TIMEOUT_HANDLE,
    FormConfig,
    parse_form,
)
from app.engine.variables.pool import MISSING, VariablePool
from app.engine.variables.templates import render_markdown
from app.engine.variables.values import plain
from app.engine.workflow.env import HumanDecision, RunScope


class HumanInputNode(Node):
    node_type = "human-input"
    is_branch = True  # each action id is a handle, as is `__timeout`
    emits_events = True  # human_input_form_filled / human_input_form_timeout

    def __init__(self, spec: NodeSpec) -> None:
        super().__init__(spec)
        self.form: FormConfig = parse_form(dict(spec.data))

    async def run(self, ctx: NodeContext) -> NodeResult:
        if ctx.scope != RunScope():
            # A pause would have to freeze the container's round too; Kiln does not.
            raise NodeError(
                "A human-input node inside an iteration or loop is not supported by Kiln.",
                "HumanInputUnsupported",
            )
        decision = ctx.workflow.human_decisions.get(self.id)
        if decision is None:
            raise NodePaused(self.request(ctx.pool))
        return self._finish(ctx, decision)

    def request(self, pool: VariablePool) -> dict[str, Any]:
        """The form as it is shown while the run waits (Dify's pause reason)."""
        defaults: dict[str, Any] = {}
        inputs: list[dict[str, Any]] = []
        for field in self.form.fields:
            shown = dict(field.raw)
            if field.default_selector is not None:
                value = pool.lookup(field.default_selector)
                if value is not MISSING:
                    defaults[field.name] = plain(value)
            if field.type == "select":
                options = list(field.options or ())
                if field.options_selector is not None:
                    found = pool.get(field.options_selector)
                    options = [str(v) for v in found] if isinstance(found, list) else []
                shown["option_source"] = {
                    **dict(shown.get("option_source") or {}),
                    "value": options,
                }
            inputs.append(shown)
        return {
            "node_id": self.id,
            "node_title": self.spec.title,
            "form_content": render_markdown(self.form.form_content, pool),
            "inputs": inputs,
            "actions": [action.shown() for action in self.form.actions],
            "resolved_default_values": defaults,
            "timeout_seconds": self.form.timeout_seconds,
        }

    def _finish(self, ctx: NodeContext, decision: HumanDecision) -> NodeResult:
        before = render_markdown(self.form.form_content, ctx.pool)
        base = {"node_id": self.id, "node_type": self.spec.type, "node_title": self.spec.title}
        if decision.timed_out:
            outputs = {ACTION_ID: "", ACTION_VALUE: "", RENDERED: before}
            if ctx.emit is not None:
                ctx.emit(
                    "human_input_form_timeout",
                    {**base, "expiration_time": decision.expiration_time},
                )
            return NodeResult(outputs=outputs, handle=TIMEOUT_HANDLE)
        action = self.form.action(decision.action_id)
        if action is None:  # the service checked it against this same form
            raise NodeError(f"Invalid action: {decision.action_id}", "HumanInputError")
        rendered = OUTPUT_PLACEHOLDER.sub(
            lambda m: _placeholder_text(decision.data.get(m.group(1))), before
        )
        outputs = {**decision.data, ACTION_ID: action.id, ACTION_VALUE: action.title}
        outputs[RENDERED] = rendered
        if ctx.emit is not None:
            ctx.emit(
                "human_input_form_filled",
                {
                    "node_execution_id": ctx.execution_id,
                    **base,
                    "rendered_content": rendered,
                    "action_id": action.id,
                    "action_text": action.title,
                },
            )
        return NodeResult(outputs=outputs, inputs=dict(decision.data), handle=action.id)


def _placeholder_text(value: Any) -> str:
    return "" if value is None else str(value)
