"""What an agent-chat app's agent loop needs from outside (app/engine/agent_chat.py): its
tools (`agent_mode.tools` through the tool runtime, and its datasets as Dify's dataset
retriever tools through the knowledge mapping), its conversation's earlier turns with their
stored thoughts, and a place for the files tools make (`message_files` of the answer).

A tool the operator has not configured, or that cannot be resolved, refuses the request
before anything is written (`app_unavailable` naming the tool and the setting), where
Dify would quietly leave the tool out."""

from typing import Any

from app.core import errors
from app.core.db import session_scope
from app.engine.agent_chat import AgentChatTools, MessageFileRef, SaveMessageFile, chat_strategy
from app.engine.agents.history import agent_history
from app.engine.agents.strategy import UnknownStrategy
from app.engine.agents.tools import AgentTool, RunTools, llm_fixed_values
from app.engine.app_config import AppConfig
from app.engine.knowledge.agent_tools import dataset_tools
from app.engine.nodes.tool.files import file_type
from app.engine.prompt import Turn
from app.integrations.tools.base import ToolCall, ToolError, ToolFile, ToolRef
from app.models import App, MessageFile
from app.runtime import Runtime
from app.services.conversations.agent_thoughts import thought_records
from app.services.workflows.files import file_store

# Dify's agent config reads items with at least these keys as tools (fewer: a dataset).
TOOL_KEYS = 4


def tool_items(config: AppConfig) -> list[tuple[dict[str, Any], ToolRef]]:
    """The enabled tools of `agent_mode`, as Dify's AgentConfigManager reads them."""
    found: list[tuple[dict[str, Any], ToolRef]] = []
    for item in config.feature("agent_mode").get("tools") or []:
        if not isinstance(item, dict) or len(item) < TOOL_KEYS or not item.get("enabled"):
            continue
        provider = str(item.get("provider_id") or item.get("provider_name") or "")
        name = item.get("provider_name")
        ref = ToolRef(
            provider_type=str(item.get("provider_type") or "builtin"),
            provider_id=provider,
            tool_name=str(item.get("tool_name") or ""),
            provider_name=name if isinstance(name, str) else "",
        )
        found.append((item, ref))
    return found


async def agent_chat_tools(
    runtime: Runtime, app: App, config: AppConfig, end_user_id: str, history: list[Turn]
) -> AgentChatTools | None:
    """The agent loop's setup, or None when the app runs as a plain answer (no tools, no
    datasets, function calling: Dify's runner without tools makes one thought)."""
    try:
        kind = chat_strategy(config, runtime.gateway)
    except UnknownStrategy as exc:
        raise errors.AppUnavailable(str(exc)) from None
    groups: list[list[dict[str, Any]]] = []
    shown = bool(config.feature("retriever_resource").get("enabled"))
    try:
        datasets = dataset_tools(
            config.raw, app.id, runtime.knowledge, runtime.gateway, groups.append if shown else None
        )
    except ToolError as exc:
        raise errors.AppUnavailable(exc.message) from None
    items = tool_items(config)
    if not items and not datasets and kind == "function_calling":
        return None
    runner = RunTools(datasets, runtime.tools)
    tools: list[AgentTool] = []
    for item, ref in items:
        try:
            spec = await runner.spec(ref)
        except ToolError as exc:
            raise errors.AppUnavailable(exc.message) from None
        configured = item.get("tool_parameters")
        fixed = llm_fixed_values(spec, configured if isinstance(configured, dict) else {})
        tools.append(AgentTool(ref, spec, fixed))
    tools += [AgentTool(tool.spec.ref, tool.spec) for tool in datasets]
    records = await thought_records([turn.message_id for turn in history if turn.message_id])
    return AgentChatTools(
        tools=tools,
        runner=runner,
        call=ToolCall(user_id=end_user_id, app_id=app.id),
        history=agent_history(history, records),
        resources=groups,
    )


def message_file_saver(
    runtime: Runtime, app_id: str, end_user_id: str, message_id: str
) -> SaveMessageFile:
    """Files tools make become files of the answer, as Dify's ToolEngine makes them: stored
    like uploads (served by signed URL), or kept as the tool's own URL."""
    save, _ = file_store(runtime.settings, app_id, end_user_id)

    async def saver(made: ToolFile) -> MessageFileRef:
        row = MessageFile(
            message_id=message_id,
            type=file_type(made.mime_type or ""),
            transfer_method="tool_file",
            belongs_to="assistant",
            created_by=end_user_id,
        )
        if made.content is not None:
            value = await save(made.content, made.mime_type, made.filename)
            row.upload_file_id = value.id
            url = value.url or ""
        else:
            row.transfer_method, row.url = "remote_url", made.url
            url = made.url or ""
        async with session_scope() as session:
            session.add(row)
        return MessageFileRef(row.id, row.type, url)

    return saver
