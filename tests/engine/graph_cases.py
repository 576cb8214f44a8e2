"""Run a graph fixture case (tests/fixtures/graphs) in-process and describe the result in
the goldens' terms (tests/fixtures/graphs/README.md), so it can be compared with what
graphon, Dify's own engine, did."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.core.app_mode import AppMode
from app.core.config import Settings
from app.engine.events import Event, MessageStreamContext
from app.engine.prompt import Turn
from app.engine.run_context import RunContext
from app.engine.variables.pool import VariablePool
from app.engine.variables.values import FileValue, file_from_mapping, plain
from app.engine.workflow.engine import (
    CompiledWorkflow,
    WorkflowOutcome,
    compile_workflow,
    run_workflow,
)
from app.engine.workflow.env import WorkflowRun, WorkflowServices
from app.engine.workflow.events import NodeExecution, WorkflowStream
from app.net.http_node import GuardedHttpCaller
from app.net.ssrf import AllowList
from app.sandbox.pool import LocalSandbox
from tests.engine.fakes import FakeGateway, Scripted, message_text
from tests.support.graph_http import GraphHttpServer

GRAPHS = Path(__file__).resolve().parents[1] / "fixtures" / "graphs"
GOLDEN = GRAPHS / "golden"
SANDBOX_NODES = frozenset(("code", "template-transform"))
LOOPBACK = AllowList.parse("127.0.0.1/32")  # the fixture HTTP server, and nothing else

_sandbox: LocalSandbox | None = None


def shared_sandbox() -> LocalSandbox:
    """One local sandbox for every case (workers start on first use); closed by
    `close_shared_sandbox` when the cases are done."""
    global _sandbox
    if _sandbox is None:
        settings = Settings(
            code_execution_endpoint="", code_execution_timeout=10.0, code_sandbox_workers=2
        )
        _sandbox = LocalSandbox(settings)
    return _sandbox


async def close_shared_sandbox() -> None:
    global _sandbox
    if _sandbox is not None:
        await _sandbox.aclose()
        _sandbox = None


def node_types(dsl: dict[str, Any]) -> set[str]:
    return {str((n.get("data") or {}).get("type")) for n in dsl["workflow"]["graph"]["nodes"]}


def all_cases() -> list[tuple[str, str]]:
    found = []
    for path in sorted(GOLDEN.glob("*.json")):
        graph, case = path.stem.rsplit(".", 1)
        found.append((graph, case))
    return found


def load_dsl(graph: str) -> dict[str, Any]:
    return yaml.safe_load((GRAPHS / f"{graph}.yml").read_text(encoding="utf-8"))


def load_case(graph: str, case: str) -> dict[str, Any]:
    cases = json.loads((GRAPHS / f"{graph}.cases.json").read_text(encoding="utf-8"))
    return next(c for c in cases if c["name"] == case)


def load_golden(graph: str, case: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{graph}.{case}.json").read_text(encoding="utf-8"))


def _start_variables(dsl: dict[str, Any]) -> list[dict[str, Any]]:
    for node in dsl["workflow"]["graph"]["nodes"]:
        data = node.get("data") or {}
        if data.get("type") == "start":
            return list(data.get("variables") or [])
    return []


def _input_value(spec: dict[str, Any], value: Any) -> Any:
    if spec.get("type") == "file" and isinstance(value, dict):
        return file_from_mapping(value)
    if spec.get("type") == "file-list" and isinstance(value, list):
        return [file_from_mapping(v) for v in value]
    return value


def _fill(value: Any, http_base: str) -> Any:
    if isinstance(value, str):
        return value.replace("{http_base}", http_base)
    return value


@dataclass
class CaseRun:
    dsl: dict[str, Any]
    case: dict[str, Any]
    compiled: CompiledWorkflow
    outcome: WorkflowOutcome
    events: list[Event]
    executions: list[NodeExecution]
    gateway: FakeGateway
    pool: VariablePool
    saved_conversation: dict[str, Any] = field(default_factory=dict)


async def run_case(
    graph: str, case_name: str, services: WorkflowServices | None = None, http_base: str = ""
) -> CaseRun:
    """Without `services`, the case gets real ones where its graph needs them: the local
    sandbox for code and template nodes, the guarded HTTP caller (loopback allowed) and,
    without `http_base`, a fixture HTTP server of its own for http-request nodes."""
    server: GraphHttpServer | None = None
    if services is None:
        services = WorkflowServices()
        types = node_types(load_dsl(graph))
        if types & SANDBOX_NODES:
            services.sandbox = shared_sandbox()
        if "http-request" in types:
            services.http = GuardedHttpCaller(LOOPBACK)
            if not http_base:
                server = GraphHttpServer().start()
                http_base = server.base_url
    try:
        return await _run_case(graph, case_name, services, http_base)
    finally:
        if server is not None:
            server.stop()


async def _run_case(
    graph: str, case_name: str, services: WorkflowServices, http_base: str
) -> CaseRun:
    dsl = load_dsl(graph)
    case = load_case(graph, case_name)
    mode = AppMode(dsl["app"]["mode"])
    workflow = dsl["workflow"]
    compiled = compile_workflow(workflow)
    raw_inputs = case.get("inputs") or {}
    inputs = {
        spec["variable"]: _input_value(spec, raw_inputs.get(spec["variable"]))
        for spec in _start_variables(dsl)
    }
    env_values: dict[str, Any] = {}
    secrets: list[str] = []
    overrides = case.get("environment") or {}
    for variable in workflow.get("environment_variables") or []:
        value = _fill(overrides.get(variable["name"], variable.get("value")), http_base)
        env_values[variable["name"]] = value
        if variable.get("value_type") == "secret" and isinstance(value, str):
            secrets.append(value)
    conversation = {
        v["name"]: (case.get("conversation_variables") or {}).get(v["name"], v.get("value"))
        for v in workflow.get("conversation_variables") or []
    }
    history = [Turn(t["query"], t["answer"]) for t in case.get("history") or []]
    system: dict[str, Any] = {
        "files": [],
        "user_id": "oracle-user",
        "app_id": "oracle-app",
        "workflow_id": "oracle-workflow",
        "workflow_run_id": "oracle-run",
    }
    chat = None
    if mode is AppMode.ADVANCED_CHAT:
        system.update(
            query=case.get("query", ""),
            conversation_id="oracle-conversation",
            dialogue_count=len(history) + 1,
        )
        chat = MessageStreamContext("task", "message", "oracle-conversation", 1)
    pool = VariablePool(system, env_values, conversation, secrets)
    saved: dict[str, Any] = {}

    async def save(name: str, value: Any) -> None:
        saved[name] = value

    if mode is AppMode.ADVANCED_CHAT and services.save_conversation_variable is None:
        services.save_conversation_variable = save
    run_info = WorkflowRun(
        mode=mode,
        app_id="oracle-app",
        workflow_id="oracle-workflow",
        run_id="oracle-run",
        task_id="task",
        services=services,
        inputs=inputs,
        history=history,
    )
    scripts = [
        Scripted(m["when"], m.get("reply", ""), m.get("tool_call")) for m in case.get("model") or []
    ]
    gateway = FakeGateway(script=scripts)
    events: list[Event] = []
    executions: list[NodeExecution] = []
    stream = WorkflowStream("task", "oracle-run", chat, frozenset(secrets))
    outcome = await run_workflow(
        compiled, run_info, pool, RunContext(gateway, events.append), stream, 60, executions.append
    )
    return CaseRun(dsl, case, compiled, outcome, events, executions, gateway, pool, saved)


def _golden_value(value: Any) -> Any:
    if isinstance(value, FileValue):
        return {
            "type": value.type,
            "transfer_method": value.transfer_method,
            "filename": value.filename,
            "extension": value.extension,
            "mime_type": value.mime_type,
            "size": value.size,
            "url": value.url,
        }
    if isinstance(value, dict):
        return {k: _golden_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_golden_value(v) for v in value]
    return value


def _outputs(execution: NodeExecution, declared_inputs: set[str]) -> dict[str, Any]:
    outputs = dict(execution.outputs or {})
    outputs.pop("usage", None)
    outputs.pop("__usage", None)
    if execution.spec.type == "start":
        outputs = {k: v for k, v in outputs.items() if k in declared_inputs}
    return _golden_value(outputs)


def describe(result: CaseRun) -> dict[str, Any]:
    """The run in the goldens' format."""
    mode = result.dsl["app"]["mode"]
    declared = {spec["variable"] for spec in _start_variables(result.dsl)}
    nodes: dict[str, dict[str, Any]] = {}
    best: dict[str, int] = {}
    for execution in result.executions:
        spec = execution.spec
        entry = nodes.setdefault(spec.id, {"type": spec.type, "status": "succeeded", "runs": 0})
        entry["runs"] += 1 + execution.retry_index  # every retry was a start too
        if execution.retry_index:
            entry["retries"] = entry.get("retries", 0) + execution.retry_index
        rank = {"succeeded": 0, "exception": 1, "failed": 2}.get(execution.status, 0)
        current = {"succeeded": 0, "exception": 1, "failed": 2}.get(entry["status"], 0)
        entry["status"] = execution.status if rank >= current else entry["status"]
        index = execution.scope.iteration_index or execution.scope.loop_index or 0
        if index >= best.get(spec.id, -1):
            best[spec.id] = index
            entry["outputs"] = _outputs(execution, declared)
            if execution.error:
                entry["error"] = execution.error
            handle = execution.handle
            branching = (
                result.compiled.nodes[spec.id].is_branch
                or spec.data.get("error_strategy") == "fail-branch"
            )
            if handle and (handle != "source" or branching):
                entry["selected_handle"] = handle
    all_ids = {n["id"] for n in result.dsl["workflow"]["graph"]["nodes"]}
    notes = {
        n["id"] for n in result.dsl["workflow"]["graph"]["nodes"] if n.get("type") == "custom-note"
    }
    described: dict[str, Any] = {
        "status": result.outcome.status,
        "outputs": _golden_value(plain(result.outcome.outputs)) if mode == "workflow" else {},
        "error": result.outcome.error,
        "nodes": nodes,
        "not_run": sorted(all_ids - notes - set(nodes)),
        "model_calls": sorted(
            (
                [{"role": m.get("role"), "content": message_text(m)} for m in call.messages]
                for call in result.gateway.calls
            ),
            key=lambda messages: json.dumps(messages, ensure_ascii=False),
        ),
    }
    if mode == "advanced-chat":
        described["answer"] = result.outcome.answer
        described["conversation_variables_after"] = _golden_value(
            dict(result.pool.scope("conversation"))
        )
    return described
