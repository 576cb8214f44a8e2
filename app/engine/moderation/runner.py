"""One generation's moderation: build the moderator for the app's rule, check the inputs
before the model runs, and hand out the output guard."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.config import Settings
from app.engine.moderation.base import (
    ModerationAction,
    ModerationFailure,
    ModerationRule,
    Moderator,
    parse_rule,
)
from app.engine.moderation.output import OutputGuard
from app.gateway.gateway import ModelGateway

REPLACE_REASON = "output_moderation"


@dataclass(slots=True)
class InputDecision:
    inputs: dict[str, Any]
    query: str
    preset: str | None = None  # set: the answer is this text, the model is not called


class Moderation:
    def __init__(
        self, rule: ModerationRule, app_id: str, settings: Settings, gateway: ModelGateway
    ) -> None:
        self.rule = rule
        self._app_id = app_id
        self._settings = settings
        self._gateway = gateway
        self._moderator: Moderator | None = None

    @property
    def moderator(self) -> Moderator:
        """Built on first use; a bad config raises ModerationFailure there."""
        if self._moderator is None:
            self._moderator = self._build()
        return self._moderator

    def _build(self) -> Moderator:
        kind = self.rule.type
        if kind == "keywords":
            from app.engine.moderation.keywords import KeywordsModerator

            return KeywordsModerator(self.rule)
        if kind == "openai_moderation":
            from app.engine.moderation.openai import OpenAIModerator

            return OpenAIModerator(self.rule, self._gateway)
        if kind == "api":
            from app.engine.moderation.api_extension import ApiModerator

            return ApiModerator(self.rule, self._app_id, self._settings)
        raise ModerationFailure(f"Moderation type {kind!r} is not supported by Kiln.")

    async def check_input(self, inputs: dict[str, Any], query: str) -> InputDecision:
        """Dify's InputModeration: a flagged `direct_output` answers with the preset; a
        flagged `overridden` replaces inputs and query before the model sees them."""
        moderator = self.moderator
        if not self.rule.inputs_enabled:
            return InputDecision(inputs, query)
        result = await moderator.moderate_inputs(dict(inputs), query)
        if not result.flagged:
            return InputDecision(inputs, query)
        if result.action == ModerationAction.DIRECT_OUTPUT:
            return InputDecision(inputs, query, preset=result.preset_response)
        return InputDecision(result.inputs, result.query)

    def output_guard(self, on_replace: Callable[[str], None]) -> OutputGuard | None:
        if not self.rule.outputs_enabled:
            return None
        buffer_size = self._settings.moderation_buffer_size
        return OutputGuard(self.moderator, buffer_size, on_replace)


def moderation_for(
    features: dict[str, Any], app_id: str, settings: Settings, gateway: ModelGateway
) -> Moderation | None:
    rule = parse_rule(features)
    return Moderation(rule, app_id, settings, gateway) if rule is not None else None
