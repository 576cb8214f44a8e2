"""What every graph-app run is set up with: the version (refused with a clear error when it
cannot run), the environment variables and their secrets, the system variables, the
services its nodes reach outside through."""

from typing import Any

from app.core.app_mode import AppMode
from app.core.errors import AppUnavailable
from app.engine.variables.pool import VariablePool
from app.engine.workflow.engine import WorkflowUnrunnable
from app.engine.workflow.env import WorkflowLimits, WorkflowServices
from app.models import App
from app.runtime import Runtime
from app.services.workflows.as_tool import install_workflow_tools
from app.services.workflows.files import file_store, vision_parts
from app.services.workflows.versions import WorkflowVersion, current_version


def runnable_version(app: App) -> WorkflowVersion:
    version = current_version(app)
    try:
        version.compiled.check_runnable()
    except WorkflowUnrunnable as exc:
        raise AppUnavailable(str(exc)) from None
    return version


def environment(workflow: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Name → value of the workflow's environment variables, and the secret values."""
    values: dict[str, Any] = {}
    secrets: list[str] = []
    for variable in workflow.get("environment_variables") or []:
        if not isinstance(variable, dict) or not variable.get("name"):
            continue
        value = variable.get("value")
        if variable.get("value_type") == "number" and isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                pass
        values[str(variable["name"])] = value
        if variable.get("value_type") == "secret" and isinstance(value, str) and value:
            secrets.append(value)
    return values, secrets


def limits(runtime: Runtime) -> WorkflowLimits:
    settings = runtime.settings
    return WorkflowLimits(
        max_steps=settings.workflow_max_execution_steps,
        max_variable_size=settings.workflow_max_variable_size,
        template_max_length=settings.template_transform_max_length,
        http_max_text_size=settings.http_request_max_text_size,
        http_max_binary_size=settings.http_request_max_binary_size,
        http_timeouts=(
            settings.http_request_connect_timeout,
            settings.http_request_read_timeout,
            settings.http_request_write_timeout,
        ),
    )


def services(runtime: Runtime, app_id: str, end_user_id: str) -> WorkflowServices:
    save_file, read_file = file_store(runtime.settings, app_id, end_user_id)
    install_workflow_tools(runtime)  # once per ToolBox (tests may rebuild it)
    return WorkflowServices(
        sandbox=runtime.sandbox,
        http=runtime.http_caller,
        file_parts=vision_parts(runtime.settings),
        save_file=save_file,
        read_file=read_file,
        tools=runtime.tools,
        knowledge=runtime.knowledge,
    )


def build_pool(
    mode: AppMode,
    system: dict[str, Any],
    workflow: dict[str, Any],
    conversation: dict[str, Any] | None = None,
) -> VariablePool:
    env_values, secrets = environment(workflow)
    return VariablePool(system, env_values, conversation or {}, secrets)


def started_inputs(inputs: dict[str, Any], system: dict[str, Any]) -> dict[str, Any]:
    """`workflow_started`'s inputs: the run's inputs and every `sys.*` value."""
    return {**inputs, **{f"sys.{key}": value for key, value in system.items()}}
