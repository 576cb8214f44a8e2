"""Start a chat or completion generation: validate, write the records, run it detached.

The generation runs as its own asyncio task so a client that disconnects loses nothing;
the HTTP response only listens to its event channel.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from app.core import errors
from app.core.app_mode import AppMode
from app.core.db import session_scope
from app.engine.agent_chat import AgentChatTools
from app.engine.app_config import AppConfig, load_app_config
from app.engine.channel import EventChannel
from app.engine.classic_runner import ClassicJob
from app.engine.events import MessageStreamContext
from app.engine.inputs import InputError, validate_inputs
from app.engine.prompt import Turn
from app.engine.template import render, template_values
from app.gateway.types import (
    ModelRequest,
    ProviderNotInitialized,
)
from app.models import App, Conversation, EndUser, Message
from app.models.base import timestamp, utcnow
from app.runtime import Runtime
from app.services.conversations.crud import get_owned
from app.services.conversations.naming import schedule_auto_name
from app.services.end_users import lookup as end_users
from app.services.files.history_images import add_history_files
from app.services.files.prompt_parts import PreparedFiles, attach_request_files, prompt_parts
from app.services.files.request_files import resolve_files
from app.services.generation.agent_tools import agent_chat_tools, message_file_saver
from app.services.generation.listener import Generation
from app.services.generation.records import (
    NIL_PARENT,
    create_records,
    load_history,
)
from app.services.generation.run_task import ClassicTask, run_generation
from app.services.model_errors import dify_error


@dataclass(slots=True)
class GenerateCommand:
    kind: str  # "chat" | "completion"
    inputs: dict[str, Any]
    query: str
    user: str | None
    streaming: bool
    conversation_id: str | None = None
    auto_generate_name: bool = False
    files: list[Any] | None = None  # the request's `files` (checked in prepare_request_files)
    workflow_id: str | None = None  # advanced-chat: the version to run instead of the current


def check_mode(app: App, kind: str) -> None:
    """Dify's mode-mismatch errors (advanced-chat apps answer `/chat-messages` too: they
    start in app/services/workflows/chatflow.py; workflow apps answer neither)."""
    if kind == "completion" and app.app_mode is not AppMode.COMPLETION:
        raise errors.AppUnavailable()
    if kind == "chat" and not app.app_mode.is_chat_family:
        raise errors.NotChatApp()


def _app_config(app: App) -> AppConfig:
    model_config = app.dsl.get("model_config")
    if not isinstance(model_config, dict):
        raise errors.AppUnavailable()
    return load_app_config(app.app_mode, model_config)


def _preflight_model(runtime: Runtime, config: AppConfig) -> None:
    request = ModelRequest(config.model.provider, config.model.name, [], mode=config.model.mode)
    try:
        runtime.gateway.check(request)
    except ProviderNotInitialized as exc:
        raise dify_error(exc) from None


async def owned_conversation(
    app: App, end_user: EndUser, conversation_id: str | None
) -> Conversation | None:
    if conversation_id is None:
        return None
    async with session_scope(read_only=True) as session:
        conversation = await get_owned(session, app.id, end_user.id, conversation_id)
    if conversation.status != "normal":
        raise errors.ConversationCompleted()
    return conversation


def _limit(runtime: Runtime, app: App) -> int:
    return app.max_active_requests or runtime.settings.app_max_active_requests


@asynccontextmanager
async def active_request_slot(runtime: Runtime, app: App) -> AsyncIterator[str]:
    """Take one of the app's active-request slots (Dify checks this first); the slot is
    released if the request fails before its run starts, else by the run."""
    request_id = uuid.uuid4().hex
    limit = _limit(runtime, app)
    if limit > 0 and not await runtime.limiter.acquire(app.id, request_id, limit):
        raise errors.TooManyRequests(
            "Too many requests. Please try again later. The current maximum concurrent "
            f"requests allowed is {limit}."
        )
    try:
        yield request_id
    except BaseException:
        await runtime.limiter.release(app.id, request_id)
        raise


async def start_generation(runtime: Runtime, app: App, command: GenerateCommand) -> Generation:
    """Dify's order: the concurrency slot, then query, conversation, files, model
    credentials and inputs, so the first failing check is the one Dify would report."""
    check_mode(app, command.kind)
    async with active_request_slot(runtime, app) as request_id:
        return await _prepare_and_launch(runtime, app, command, request_id)


async def _prepare_and_launch(
    runtime: Runtime, app: App, command: GenerateCommand, request_id: str
) -> Generation:
    if app.app_mode.is_agent and not command.streaming:  # Dify: inside the generator
        raise errors.InvalidParam("Agent Chat App does not support blocking mode")
    if command.kind == "chat" and not command.query:
        raise errors.InvalidParam("query is required")
    end_user = await end_users.get_or_create(app.id, command.user)
    conversation = await owned_conversation(app, end_user, command.conversation_id)
    config = _app_config(app)
    request_files, upload = await resolve_files(app.id, config.features, command.files)
    _preflight_model(runtime, config)
    try:
        inputs = validate_inputs(config.form, command.inputs)
    except InputError as exc:
        raise errors.InvalidParam(str(exc)) from None
    history = await load_history(conversation.id) if conversation else []
    documents = runtime.gateway.document_types(config.model.provider)
    await add_history_files(runtime.settings, config, history, documents)
    parts = await prompt_parts(runtime.settings, request_files, upload, documents)
    agent_tools = None
    if app.app_mode.is_agent:  # tools resolved (or refused) before anything is written
        agent_tools = await agent_chat_tools(runtime, app, config, end_user.id, history)
    checked = CheckedRequest(
        app=app,
        command=command,
        request_id=request_id,
        end_user=end_user,
        conversation=conversation,
        config=config,
        inputs=inputs,
        history=history,
        files=PreparedFiles(request_files, parts),
        agent_tools=agent_tools,
    )
    return await _launch(runtime, checked)


@dataclass(slots=True)
class CheckedRequest:
    """A generation request that passed every check, with what the checks loaded."""

    app: App
    command: GenerateCommand
    request_id: str  # the limiter slot it holds
    end_user: EndUser
    conversation: Conversation | None  # None: the request starts one
    config: AppConfig
    inputs: dict[str, Any]
    history: list[Turn]
    files: PreparedFiles
    agent_tools: AgentChatTools | None = None  # agent-chat with tools: the agent loop


async def _launch(runtime: Runtime, checked: CheckedRequest) -> Generation:
    app, command, config, end_user = checked.app, checked.command, checked.config, checked.end_user
    conversation, inputs = checked.conversation, checked.inputs
    query = command.query.replace("\x00", "")
    new_conversation = None
    if conversation is None:
        opening = str(config.raw.get("opening_statement") or "")
        new_conversation = Conversation(
            app_id=app.id,
            from_end_user_id=end_user.id,
            mode=app.mode,
            inputs=inputs,
            introduction=render(opening, template_values(inputs)),
        )
    conversation_row = conversation or new_conversation
    assert conversation_row is not None
    task_id = str(uuid.uuid4())
    message = Message(
        app_id=app.id,
        conversation_id=conversation_row.id,
        from_end_user_id=end_user.id,
        parent_message_id=NIL_PARENT,
        inputs=inputs,
        query=query,
        model_provider=config.model.provider,
        model_id=config.model.name,
        task_id=task_id,
        is_running=True,
        worker_id=runtime.registry.worker_id,
        created_at=utcnow(),
    )
    await create_records(
        conversation=conversation, new_conversation=new_conversation, message=message
    )
    await attach_request_files(message.id, end_user.id, checked.files)
    ctx = MessageStreamContext(
        task_id=task_id,
        message_id=message.id,
        conversation_id=conversation_row.id if command.kind == "chat" else None,
        created_at=timestamp(message.created_at) or 0,
        answer_event="agent_message" if app.app_mode.is_agent else "message",
    )
    handle = await runtime.registry.register(task_id, f"end-user-{end_user.id}")
    channel = EventChannel()
    job = ClassicJob(
        config, inputs, query, checked.history, checked.files.parts, agent=app.app_mode.is_agent
    )
    if checked.agent_tools is not None:
        checked.agent_tools.save_file = message_file_saver(runtime, app.id, end_user.id, message.id)
        job.agent_tools = checked.agent_tools
    launched = ClassicTask(
        app.id, checked.request_id, job, ctx, channel, handle.stop_requested, command.streaming
    )
    task = asyncio.create_task(run_generation(runtime, launched), name=f"generation-{task_id}")
    runtime.track(task)
    if new_conversation is not None and command.kind == "chat" and command.auto_generate_name:
        schedule_auto_name(runtime, app, new_conversation.id, message.id, query, task)
    return Generation(ctx, app.mode, channel)
