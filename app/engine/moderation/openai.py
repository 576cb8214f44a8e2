"""`openai_moderation`: the texts go to the moderation model through the gateway (Dify
joins the input values, query included, with newlines)."""

from typing import Any

from app.engine.moderation.base import (
    InputsResult,
    ModerationRule,
    Moderator,
    OutputsResult,
    check_io_config,
    flagged_text,
)
from app.gateway.gateway import ModelGateway


class OpenAIModerator(Moderator):
    def __init__(self, rule: ModerationRule, gateway: ModelGateway) -> None:
        super().__init__(rule)
        check_io_config(rule, preset_required=True)
        self._gateway = gateway

    async def moderate_inputs(self, inputs: dict[str, Any], query: str) -> InputsResult:
        if not self.rule.inputs_enabled:
            return InputsResult()
        text = "\n".join(str(v) for v in flagged_text(inputs, query).values())
        flagged = await self._gateway.moderate(text)
        return InputsResult(flagged, preset_response=self.rule.preset("inputs_config"))

    async def moderate_output(self, text: str) -> OutputsResult:
        if not self.rule.outputs_enabled:
            return OutputsResult()
        flagged = await self._gateway.moderate(text)
        return OutputsResult(flagged, preset_response=self.rule.preset("outputs_config"))
