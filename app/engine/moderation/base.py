"""What every moderation type shares: the rule read from the app config, the results, the
config checks Dify applies, and the interface each type implements."""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.gateway.types import GatewayError


class ModerationAction(StrEnum):
    DIRECT_OUTPUT = "direct_output"
    OVERRIDDEN = "overridden"


class ModerationFailure(GatewayError):
    """Moderation could not run (bad config, extension unreachable); safe to show a client.
    Dify raises ValueError here, which its streams report as `invalid_param`."""


@dataclass(slots=True)
class InputsResult:
    flagged: bool = False
    action: ModerationAction = ModerationAction.DIRECT_OUTPUT
    preset_response: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    query: str = ""


@dataclass(slots=True)
class OutputsResult:
    flagged: bool = False
    action: ModerationAction = ModerationAction.DIRECT_OUTPUT
    preset_response: str = ""
    text: str = ""


@dataclass(slots=True)
class ModerationRule:
    """`sensitive_word_avoidance` when enabled: `{type, config}`."""

    type: str
    config: dict[str, Any]

    def side(self, name: str) -> dict[str, Any]:
        value = self.config.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def inputs_enabled(self) -> bool:
        return bool(self.side("inputs_config").get("enabled"))

    @property
    def outputs_enabled(self) -> bool:
        return bool(self.side("outputs_config").get("enabled"))

    def preset(self, name: str) -> str:
        return str(self.side(name).get("preset_response") or "")


def parse_rule(features: Mapping[str, Any]) -> ModerationRule | None:
    """The enabled rule, or None. Exports carry `config` (some older ones `configs`)."""
    raw = features.get("sensitive_word_avoidance")
    if not isinstance(raw, dict) or not raw.get("enabled") or not raw.get("type"):
        return None
    config = raw.get("config")
    if not isinstance(config, dict):
        config = raw.get("configs")
    return ModerationRule(str(raw["type"]), dict(config) if isinstance(config, dict) else {})


def check_io_config(rule: ModerationRule, preset_required: bool) -> None:
    """What Dify's moderation needs to run at all (raised as ModerationFailure). Its other
    limits (keyword rows, preset length, one side enabled) are console-save checks that
    an imported app never met, so they are not enforced here either."""
    for name in ("inputs_config", "outputs_config"):
        if not isinstance(rule.config.get(name), dict):
            raise ModerationFailure(f"{name} must be a dict")
    if not preset_required:
        return
    for name, enabled in (
        ("inputs_config", rule.inputs_enabled),
        ("outputs_config", rule.outputs_enabled),
    ):
        if not enabled:
            continue
        if not rule.preset(name):
            raise ModerationFailure(f"{name}.preset_response is required")


def flagged_text(inputs: Mapping[str, Any], query: str) -> dict[str, Any]:
    """The values an input check looks at: every input, plus the query as `query__`."""
    values = dict(inputs)
    if query:
        values["query__"] = query
    return values


class Moderator(ABC):
    def __init__(self, rule: ModerationRule) -> None:
        self.rule = rule

    @abstractmethod
    async def moderate_inputs(self, inputs: dict[str, Any], query: str) -> InputsResult: ...

    @abstractmethod
    async def moderate_output(self, text: str) -> OutputsResult: ...
