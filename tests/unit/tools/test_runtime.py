"""The ToolBox: matching builtin tools whatever the plugin prefix, the "not configured"
errors naming provider, tool and setting, dry-run placeholders (marked and logged), and
registered providers."""

import logging
from typing import Any

import pytest

from app.core.config import Settings
from app.integrations.config import Integrations
from app.integrations.tools.base import (
    Tool,
    ToolCall,
    ToolError,
    ToolNotConfigured,
    ToolOutput,
    ToolRef,
    ToolSpec,
)
from app.integrations.tools.runtime import ToolBox, dry_run_setting
from tests.unit.tools.support import CALL, integrations, ref, toolbox


@pytest.mark.parametrize(
    "provider_id,provider_name,provider_type",
    [
        ("time", "time", "builtin"),
        ("langgenius/time/time", "time", "builtin"),
        ("langgenius/time/time", "langgenius/time/time", "plugin"),
        ("langgenius/time/time", "", "plugin"),
        ("Time", "", "builtin"),
    ],
)
async def test_builtin_tools_match_by_provider_and_tool_whatever_the_prefix(
    provider_id: str, provider_name: str, provider_type: str
) -> None:
    box = toolbox()
    found = ToolRef(provider_type, provider_id, "current_time", provider_name)
    assert box.check(found) is None
    output = await box.invoke(found, {"timezone": "UTC"}, CALL)
    assert output.text == "2024-03-09 16:30:05"
    spec = await box.spec(found)
    assert [p.name for p in spec.parameters] == ["format", "timezone"]


async def test_an_unknown_builtin_tool_names_provider_tool_and_the_setting() -> None:
    box = toolbox()
    missing = ref("langgenius/wikipedia/wikipedia", "wikipedia_search")
    reason = box.check(missing)
    assert reason is not None
    assert "wikipedia/wikipedia_search" in reason and "KILN_INTEGRATIONS_FILE" in reason
    assert "tools.dry_run" in reason
    with pytest.raises(ToolNotConfigured) as caught:
        await box.invoke(missing, {}, CALL)
    assert caught.value.message == reason


async def test_a_provider_without_its_key_names_the_credentials_entry() -> None:
    box = toolbox()
    tavily = ref("tavily", "tavily_search")
    reason = box.check(tavily)
    assert reason is not None and "`tools.credentials.tavily.api_key`" in reason
    with pytest.raises(ToolNotConfigured, match="tools.credentials.tavily.api_key"):
        await box.resolve(tavily)
    configured = toolbox("tools: {credentials: {tavily: {api_key: tvly-1}}}")
    assert configured.check(tavily) is None


@pytest.mark.parametrize(
    "provider_type,entry",
    [
        ("api", "`tools.openapi.petstore`"),
        ("mcp", "`tools.mcp.petstore`"),
        ("workflow", "`tools.workflows.petstore`"),
        ("app", "not supported"),
    ],
)
async def test_provider_types_nobody_serves_say_what_would_enable_them(
    provider_type: str, entry: str
) -> None:
    box = toolbox()
    reason = box.check(ref("0b1c-uuid", "get_pet", provider_type, "petstore"))
    assert reason is not None and entry in reason
    assert "petstore/get_pet" in reason


async def test_the_message_names_the_file_in_use(tmp_path: Any) -> None:
    file = tmp_path / "integrations.yaml"
    box = ToolBox(integrations("", file))
    reason = box.check(ref("x", "y", "api"))
    assert reason is not None and str(file) in reason


async def test_dry_run_answers_a_marked_placeholder_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    box = toolbox(dry_run=True)
    missing = ref("langgenius/wikipedia/wikipedia", "wikipedia_search")
    assert box.check(missing) is not None  # still listed at import
    with caplog.at_level(logging.WARNING, logger="kiln.tools"):
        output = await box.invoke(missing, {"query": "kiln"}, CALL)
    assert output.placeholder is True
    assert "placeholder" in output.text
    assert output.json[0]["kiln_placeholder"] is True
    assert output.json[0]["arguments"] == {"query": "kiln"}
    assert any(
        "dry run" in r.getMessage() and "wikipedia" in r.getMessage() for r in caplog.records
    )
    # configured tools still run for real under dry run
    real = await box.invoke(ref("time", "current_time"), {}, CALL)
    assert real.placeholder is False


def test_dry_run_comes_from_the_environment_setting_or_the_file() -> None:
    on = integrations("tools: {dry_run: true}")
    off = Integrations()
    assert dry_run_setting(Settings(), on) is True
    assert dry_run_setting(Settings(), off) is False
    assert dry_run_setting(Settings(tools_dry_run=True), off) is True
    assert dry_run_setting(Settings(tools_dry_run=False), on) is False
    assert ToolBox(on).dry_run is True


class _EchoTool:
    def __init__(self, ref: ToolRef) -> None:
        self.spec = ToolSpec(ref, ref.tool_name, "echo")

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        if arguments.get("boom"):
            raise RuntimeError("kaput")
        return ToolOutput(text=f"{call.depth}:{arguments}")


class _ApiProvider:
    provider_types = ("api",)

    async def find(self, ref: ToolRef) -> Tool | None:
        return _EchoTool(ref) if ref.provider == "petstore" else None

    def check(self, ref: ToolRef) -> str | None:
        return None if ref.provider == "petstore" else f"no {ref.provider}"


async def test_registered_providers_serve_their_types_and_bugs_become_tool_errors() -> None:
    box = toolbox()
    box.register(_ApiProvider())
    pets = ref("uuid-1", "list", "api", "petstore")
    assert box.check(pets) is None
    assert box.check(ref("uuid-2", "list", "api", "other")) == "no other"
    output = await box.invoke(pets, {"a": 1}, ToolCall("u", "a", depth=2))
    assert output.text == "2:{'a': 1}"
    with pytest.raises(ToolError, match="RuntimeError: kaput"):
        await box.invoke(pets, {"boom": True}, CALL)
    with pytest.raises(ToolNotConfigured, match="tools.openapi.other"):
        await box.invoke(ref("uuid-2", "list", "api", "other"), {}, CALL)
