"""The `tool` node over a real ToolBox: parameter kinds (mixed templates, variables with
native values and files, constants, configurations in both export shapes), outputs (text,
files stored or remote, json, variables), the reference as plugin exports write it,
failures (unconfigured, missing variables, the tool's own errors) under fail-branch and
default-value, and dry-run placeholders marked in the outputs."""

from typing import Any

import pytest

from app.core.app_mode import AppMode
from app.engine.nodes.base import NodeConfigError, NodeError
from app.engine.nodes.registry import unsupported_reason
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue
from app.engine.workflow.engine import compile_workflow, run_workflow
from app.engine.workflow.env import WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.integrations.tools.base import (
    Tool,
    ToolCall,
    ToolError,
    ToolFile,
    ToolOutput,
    ToolParameter,
    ToolRef,
    ToolSpec,
)
from app.integrations.tools.runtime import ToolBox
from tests.engine.fakes import FakeGateway
from tests.engine.nodes.single_node import pool_with, run_node, spec
from tests.engine.nodes.support import graph, workflow_run
from tests.unit.tools.support import toolbox

PNG = b"\x89PNG\r\n\x1a\nfake"


class _Recorder:
    """An `api` tool that records its calls and answers what the arguments ask for."""

    def __init__(self, ref: ToolRef, calls: list[tuple[dict[str, Any], ToolCall]]) -> None:
        self.calls = calls
        self.spec = ToolSpec(
            ref,
            ref.tool_name,
            "records",
            (
                ToolParameter("needed", required=True),
                ToolParameter("optional"),
            ),
        )

    async def invoke(self, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        self.calls.append((arguments, call))
        if arguments.get("fail"):
            raise ToolError("the service said no")
        return ToolOutput(
            text="done",
            json=[{"got": sorted(arguments)}],
            files=[
                ToolFile("image/png", "chart.png", content=PNG),
                ToolFile("application/pdf", url="https://files.example.test/doc/report.pdf"),
            ],
            variables={"answer": 42},
        )


class _RecordingProvider:
    provider_types = ("api",)

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], ToolCall]] = []

    async def find(self, ref: ToolRef) -> Tool | None:
        return _Recorder(ref, self.calls) if ref.provider == "recorder" else None

    def check(self, ref: ToolRef) -> str | None:
        return None if ref.provider == "recorder" else "unknown"


class _Files:
    def __init__(self) -> None:
        self.saved: list[tuple[bytes, str, str]] = []

    async def save(self, content: bytes, mime: str, name: str) -> FileValue:
        self.saved.append((content, mime, name))
        return FileValue(
            type="image",
            transfer_method="tool_file",
            filename=name,
            extension=".png",
            mime_type=mime,
            size=len(content),
            related_id=f"file-{len(self.saved)}",
        )


def recorder_box(dry_run: bool = False) -> tuple[ToolBox, _RecordingProvider]:
    box = toolbox(dry_run=dry_run)
    provider = _RecordingProvider()
    box.register(provider)
    return box, provider


def recorder_node(parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "provider_type": "api",
        "provider_id": "5f0c-uuid",
        "provider_name": "recorder",
        "tool_name": "record",
        "tool_label": "Record",
        "tool_configurations": extra.pop("tool_configurations", {}),
        "tool_parameters": parameters,
        **extra,
    }


def time_node(**parameters: Any) -> dict[str, Any]:
    return {
        "provider_type": "builtin",
        "provider_id": "langgenius/time/time",
        "provider_name": "time",
        "tool_name": "current_time",
        "tool_configurations": {
            "timezone": {"type": "constant", "value": "Asia/Tokyo"},
            "format": "%H:%M",
        },
        "tool_parameters": parameters,
    }


async def test_a_builtin_tool_runs_by_its_plugin_reference() -> None:
    result = await run_node("tool", time_node(), services=WorkflowServices(tools=toolbox()))
    assert result.outputs["text"] == "01:30"  # 16:30 UTC in Tokyo
    assert result.outputs["files"] == [] and result.outputs["json"] == [{"data": []}]
    assert result.inputs == {"timezone": "Asia/Tokyo", "format": "%H:%M"}
    assert result.metadata["tool_info"] == {
        "provider_type": "builtin",
        "provider_id": "langgenius/time/time",
        "plugin_unique_identifier": None,
    }


async def test_parameter_kinds_and_outputs() -> None:
    box, provider = recorder_box()
    files = _Files()
    upload = FileValue("document", "local_file", "a.txt", ".txt", "text/plain", 3, related_id="u1")
    pool = pool_with({"start": {"city": "Paris", "n": 3, "doc": upload, "obj": {"k": [1]}}})
    data = recorder_node(
        {
            "needed": {"type": "mixed", "value": "Weather in {{#start.city#}} ({{#start.n#}})"},
            "count": {"type": "variable", "value": ["start", "n"]},
            "obj": {"type": "variable", "value": ["start", "obj"]},
            "doc": {"type": "variable", "value": ["start", "doc"]},
            "flag": {"type": "constant", "value": True},
            "label": {"type": "constant", "value": "at {{#start.city#}}"},
            "gone": {"type": "variable", "value": ["start", "missing"]},
            "unset": {"type": "mixed", "value": None},
        },
        tool_configurations={"mode": "fast", "depth": {"type": "constant", "value": 2}},
    )
    services = WorkflowServices(tools=box, save_file=files.save)
    result = await run_node("tool", data, pool, services)
    arguments, call = provider.calls[0]
    assert arguments == {
        "mode": "fast",
        "depth": 2,
        "needed": "Weather in Paris (3)",
        "count": 3,
        "obj": {"k": [1]},
        "doc": upload.to_dict(),
        "flag": True,
        "label": "at Paris",
    }
    assert (call.app_id, call.depth) == ("app", 0)
    outputs = result.outputs
    assert outputs["text"] == "done" and outputs["answer"] == 42
    assert outputs["json"] == [{"got": sorted(arguments)}]
    stored, remote = outputs["files"]
    assert files.saved == [(PNG, "image/png", "chart.png")]
    assert stored.transfer_method == "tool_file" and stored.filename == "chart.png"
    assert remote.transfer_method == "remote_url" and remote.type == "document"
    assert remote.filename == "report.pdf" and remote.url.endswith("/doc/report.pdf")
    assert "kiln_placeholder" not in outputs


async def test_a_missing_variable_fails_only_a_required_parameter() -> None:
    box, provider = recorder_box()
    data = recorder_node({"needed": {"type": "variable", "value": ["start", "nothing"]}})
    with pytest.raises(NodeError) as caught:
        await run_node("tool", data, VariablePool(), WorkflowServices(tools=box))
    assert caught.value.message == "Variable ['start', 'nothing'] does not exist"
    assert caught.value.error_type == "ToolParameterError"
    assert provider.calls == []


async def test_failures_name_the_tool_and_the_setting() -> None:
    box, _ = recorder_box()
    with pytest.raises(NodeError) as caught:
        data = {**time_node(), "provider_id": "langgenius/wikipedia/wikipedia", "provider_name": ""}
        await run_node(
            "tool", {**data, "tool_name": "wikipedia_search"}, None, WorkflowServices(tools=box)
        )
    assert caught.value.message.startswith("Failed to get tool runtime: builtin tool wikipedia")
    assert "tools.dry_run" in caught.value.message
    assert caught.value.error_type == "ToolNotConfigured"
    fail = recorder_node({"fail": {"type": "constant", "value": True}})
    with pytest.raises(NodeError) as caught:
        await run_node("tool", fail, None, WorkflowServices(tools=box))
    assert caught.value.message == "Failed to invoke tool: the service said no"
    assert caught.value.error_type == "ToolInvokeError"
    with pytest.raises(NodeError, match="no tool runtime"):
        await run_node("tool", time_node(), None, WorkflowServices())


async def test_dry_run_placeholders_are_marked_in_the_outputs() -> None:
    box, _ = recorder_box(dry_run=True)
    data = recorder_node({"q": {"type": "mixed", "value": "x"}})
    data["provider_name"] = "not-there"
    result = await run_node("tool", data, None, WorkflowServices(tools=box))
    assert result.outputs["kiln_placeholder"] is True
    assert result.process_data["kiln_placeholder"] is True
    assert "placeholder" in result.outputs["text"]
    assert result.outputs["json"][0]["arguments"] == {"q": "x"}


@pytest.mark.parametrize(
    "data,message",
    [
        ({"provider_id": "x", "tool_name": "y"}, "no provider_type"),
        ({"provider_type": "builtin", "tool_name": "y"}, "no provider_id"),
        (
            {**time_node(), "tool_parameters": {"a": {"type": "variable", "value": "x.y"}}},
            "must be a list",
        ),
        ({**time_node(), "tool_parameters": {"a": {"type": "other", "value": 1}}}, "unknown"),
    ],
)
def test_unreadable_data_is_reported_when_building(data: dict[str, Any], message: str) -> None:
    reason = unsupported_reason(spec("tool", data))
    assert reason is not None and message in reason
    with pytest.raises(NodeConfigError):
        from app.engine.nodes.tool.node import ToolNode

        ToolNode(spec("tool", data))


def _tool_graph(tool_data: dict[str, Any], fail_branch: bool = True) -> dict[str, Any]:
    return graph(
        [
            ("start", {"type": "start", "variables": []}),
            ("tool", {"type": "tool", **tool_data}),
            (
                "ok",
                {
                    "type": "end",
                    "outputs": [{"variable": "text", "value_selector": ["tool", "text"]}],
                },
            ),
            (
                "bad",
                {
                    "type": "end",
                    "outputs": [{"variable": "error", "value_selector": ["tool", "error_message"]}],
                },
            ),
        ],
        [("start", "source", "tool"), ("tool", "source", "ok")]
        + ([("tool", "fail-branch", "bad")] if fail_branch else []),
    )


async def _run(workflow: dict[str, Any], box: ToolBox) -> tuple[Any, list[NodeExecution]]:
    executions: list[NodeExecution] = []
    outcome = await run_workflow(
        compile_workflow(workflow),
        workflow_run(AppMode.WORKFLOW, WorkflowServices(tools=box)),
        VariablePool({"files": [], "user_id": "user"}),
        RunContext(FakeGateway(), lambda event: None),
        WorkflowStream("task", "run", None),
        60,
        executions.append,
    )
    return outcome, executions


async def test_a_failing_tool_takes_the_fail_branch() -> None:
    box, _ = recorder_box()
    data = recorder_node(
        {"fail": {"type": "constant", "value": True}}, error_strategy="fail-branch"
    )
    outcome, executions = await _run(_tool_graph(data), box)
    assert outcome.status == "partial-succeeded"
    assert outcome.outputs == {"error": "Failed to invoke tool: the service said no"}
    assert {e.spec.id for e in executions} >= {"tool", "bad"}


async def test_a_failing_tool_answers_its_default_values() -> None:
    box, _ = recorder_box()
    data = recorder_node(
        {"fail": {"type": "constant", "value": True}},
        error_strategy="default-value",
        default_value=[{"key": "text", "type": "string", "value": "fallback"}],
    )
    outcome, _ = await _run(_tool_graph(data, fail_branch=False), box)
    assert outcome.status == "partial-succeeded"
    assert outcome.outputs == {"text": "fallback"}


async def test_a_workflow_with_an_unconfigured_tool_fails_naming_it() -> None:
    box, _ = recorder_box()
    data = recorder_node({}, provider_type="mcp", provider_name="docs")
    outcome, _ = await _run(_tool_graph(data), box)
    assert outcome.status == "failed"
    assert "tools.mcp.docs" in str(outcome.error)
