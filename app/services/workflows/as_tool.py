"""Workflow-as-tool, the services side: which imported workflow app a `provider_type:
workflow` reference means, and running it as Dify's WorkflowTool does — the app's current
version, blocking, the tool's arguments as its inputs, the calling end user, one call
level deeper (`WorkflowRun.call_depth`). The run is recorded like any other. Its outputs
become the tool's answer: files among them as files, the outputs as JSON text and as one
JSON message; a failed run is the tool's error."""

import asyncio
import contextlib
import json
from typing import Any

from sqlmodel import col, select

from app.core.app_mode import AppMode
from app.core.db import session_scope
from app.core.errors import DifyError
from app.engine.variables.values import FileValue, file_from_mapping, is_file_mapping
from app.integrations.tools.base import (
    ToolCall,
    ToolError,
    ToolFile,
    ToolOutput,
    ToolParameter,
    ToolRef,
)
from app.integrations.tools.workflow import WorkflowTarget, WorkflowToolProvider
from app.models import App, UploadFile
from app.runtime import Runtime
from app.services.workflows.files import file_store
from app.services.workflows.start_form import start_variables

PAUSED_IN_TOOL = "The workflow waits for human input, which a workflow tool cannot give."

# Start-variable types → tool parameter types (what an agent's model is asked to fill).
_PARAMETER_TYPES = {
    "number": "number",
    "checkbox": "boolean",
    "select": "select",
    "file": "file",
    "file-list": "files",
    "json_object": "object",
}


def parameters_of(app: App) -> tuple[ToolParameter, ...]:
    workflow = app.dsl.get("workflow") if isinstance(app.dsl, dict) else None
    found = []
    for variable in start_variables(workflow if isinstance(workflow, dict) else {}):
        name = variable.get("variable")
        if not name:
            continue
        kind = str(variable.get("type") or "text-input")
        found.append(
            ToolParameter(
                name=str(name),
                type=_PARAMETER_TYPES.get(kind, "string"),
                required=bool(variable.get("required", False)),
                description=str(variable.get("label") or name),
                options=tuple(str(o) for o in variable.get("options") or ()),
                default=variable.get("default"),
            )
        )
    return tuple(found)


async def find_workflow_app(ref: ToolRef, mapping: dict[str, str]) -> App | None:
    """The workflow app a reference means: by the integrations file's `tools.workflows`
    entry (keyed by provider id, provider name or tool name), else by app id, else by
    name (the newest app of that name)."""
    keys = [k for k in (ref.provider_id, ref.provider_name, ref.tool_name) if k]
    mapped = next((mapping[k] for k in keys if k in mapping), None)
    async with session_scope() as session:
        for wanted in [mapped] if mapped else keys:
            by_id = await session.get(App, wanted)
            if by_id is not None and by_id.mode == AppMode.WORKFLOW.value:
                return by_id
            named = (
                await session.exec(
                    select(App)
                    .where(App.name == wanted, App.mode == AppMode.WORKFLOW.value)
                    .order_by(col(App.created_at).desc())
                )
            ).first()
            if named is not None:
                return named
    return None


class WorkflowTools:
    """The finder and the invoker the WorkflowToolProvider runs on, for one process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def provider(self) -> WorkflowToolProvider:
        return WorkflowToolProvider(
            self.find, self.invoke, self.runtime.settings.workflow_call_max_depth
        )

    async def app_for(self, ref: ToolRef) -> App | None:
        tools = self.runtime.tools
        return await find_workflow_app(ref, tools.integrations.tools.workflows if tools else {})

    async def find(self, ref: ToolRef) -> WorkflowTarget | None:
        app = await self.app_for(ref)
        if app is None:
            return None
        return WorkflowTarget(app.id, app.name, app.description, parameters_of(app))

    async def invoke(self, app_id: str, arguments: dict[str, Any], call: ToolCall) -> ToolOutput:
        from app.services.workflows.launch import WorkflowCommand, start_workflow_run
        from app.services.workflows.paused_runs import fail_paused_run

        async with session_scope() as session:
            app = await session.get(App, app_id)
        if app is None:
            raise ToolError(f"workflow app {app_id} not found")
        inputs = await self._inputs(app, arguments, call)
        user = call.user_id or "workflow-tool"
        command = WorkflowCommand(inputs, user, streaming=False, call_depth=call.depth)
        try:
            generation = await start_workflow_run(self.runtime, app, command)
        except DifyError as exc:
            raise ToolError(exc.message) from None
        try:
            answer = await generation.blocking_response()
        except asyncio.CancelledError:  # the calling run stopped: stop this one too
            with contextlib.suppress(Exception):
                await self.runtime.registry.request_stop(generation.task_id, f"app-{app.id}")
            raise
        except DifyError as exc:
            raise ToolError(exc.message) from None
        data = answer.get("data") or {}
        if data.get("status") == "paused":  # its form reaches nobody: the run ends here
            await fail_paused_run(generation.workflow_run_id, PAUSED_IN_TOOL)
            raise ToolError(PAUSED_IN_TOOL)
        if data.get("error"):
            raise ToolError(str(data["error"]))
        return await self._output(app, data.get("outputs") or {}, call)

    async def _inputs(self, app: App, arguments: dict[str, Any], call: ToolCall) -> dict[str, Any]:
        """Arguments as request inputs: files handed over to the called app."""
        inputs: dict[str, Any] = {}
        for name, value in arguments.items():
            if is_file_mapping(value):
                inputs[name] = await self._hand_over(app, value, call)
            elif isinstance(value, list) and value and all(is_file_mapping(v) for v in value):
                inputs[name] = [await self._hand_over(app, v, call) for v in value]
            else:
                inputs[name] = value
        return inputs

    async def _hand_over(self, app: App, mapping: dict[str, Any], call: ToolCall) -> dict[str, Any]:
        """A request file entry for the called app: a stored file is copied into it (uploads
        belong to one app), a remote one passes by its URL."""
        value = file_from_mapping(mapping)
        if value.related_id:
            async with session_scope() as session:
                row = await session.get(UploadFile, value.related_id)
            if row is not None:
                read = file_store(self.runtime.settings, row.app_id, row.created_by)[1]
                save = file_store(self.runtime.settings, app.id, row.created_by)[0]
                copy = await save(await read(value), row.mime_type or "", row.name)
                return {
                    "type": copy.type,
                    "transfer_method": "local_file",
                    "upload_file_id": copy.related_id,
                }
        return {"type": value.type, "transfer_method": "remote_url", "url": value.url}

    async def _output(self, app: App, outputs: dict[str, Any], call: ToolCall) -> ToolOutput:
        files: list[ToolFile] = []
        for value in outputs.values():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if is_file_mapping(item):
                    files.append(await self._tool_file(app, file_from_mapping(item)))
        return ToolOutput(text=json.dumps(outputs, ensure_ascii=False), json=[outputs], files=files)

    async def _tool_file(self, app: App, value: FileValue) -> ToolFile:
        mime = value.mime_type or "application/octet-stream"
        if value.related_id:
            read = file_store(self.runtime.settings, app.id, "")[1]
            with contextlib.suppress(Exception):
                return ToolFile(mime, value.filename, content=await read(value))
        return ToolFile(mime, value.filename, url=value.remote_url or value.url)


def install_workflow_tools(runtime: Runtime) -> None:
    """Register workflow-as-tool in the process's ToolBox once."""
    tools = runtime.tools
    if tools is not None and not tools.serves("workflow"):
        tools.register(WorkflowTools(runtime).provider())
