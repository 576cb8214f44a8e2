"""`keywords`: case-insensitive substring matches of newline-separated keywords (Dify)."""

from collections.abc import Iterable
from typing import Any

from app.engine.moderation.base import (
    InputsResult,
    ModerationFailure,
    ModerationRule,
    Moderator,
    OutputsResult,
    check_io_config,
    flagged_text,
)


def _violated(values: Iterable[Any], keywords: list[str]) -> bool:
    lowered = [k.lower() for k in keywords]
    return any(k in str(value).lower() for value in values for k in lowered)


class KeywordsModerator(Moderator):
    def __init__(self, rule: ModerationRule) -> None:
        super().__init__(rule)
        check_io_config(rule, preset_required=True)
        text = rule.config.get("keywords")
        if not isinstance(text, str):
            raise ModerationFailure("keywords is required")
        self.keywords = [row for row in text.split("\n") if row]

    async def moderate_inputs(self, inputs: dict[str, Any], query: str) -> InputsResult:
        if not self.rule.inputs_enabled:
            return InputsResult()
        values = flagged_text(inputs, query).values()
        flagged = _violated(values, self.keywords)
        return InputsResult(flagged, preset_response=self.rule.preset("inputs_config"))

    async def moderate_output(self, text: str) -> OutputsResult:
        if not self.rule.outputs_enabled:
            return OutputsResult()
        flagged = _violated([text], self.keywords)
        return OutputsResult(flagged, preset_response=self.rule.preset("outputs_config"))
