"""Start an advanced-chat app's turn (`POST /v1/chat-messages`): the classic chat's checks
and records (conversation, message, files), the conversation's variables and memory, then
the workflow run as its own task; its answer streams as `message` events."""

import asyncio
import time
import uuid

from app.core import errors
from app.engine.channel import EventChannel
from app.engine.events import MessageStreamContext
from app.engine.features import feature_blocks
from app.engine.template import render, template_values
from app.engine.variables.values import plain
from app.engine.workflow.events import WorkflowStream
from app.models import App, Conversation, Message
from app.models import WorkflowRun as WorkflowRunRow
from app.models.base import timestamp, utcnow
from app.runtime import Runtime
from app.services.conversations.naming import schedule_auto_name
from app.services.end_users import lookup as end_users
from app.services.files.request_files import attach_files, resolve_files
from app.services.generation.listener import Generation
from app.services.generation.records import NIL_PARENT, create_records, load_history
from app.services.generation.start import (
    GenerateCommand,
    active_request_slot,
    check_mode,
    owned_conversation,
)
from app.services.workflows.chat_records import earlier_turns
from app.services.workflows.conversation_state import (
    declared_variables,
    load_conversation_variables,
    variable_saver,
)
from app.services.workflows.files import file_value
from app.services.workflows.records import create_run
from app.services.workflows.run_task import GraphTask, run_graph_task
from app.services.workflows.setup import (
    build_pool,
    runnable_version,
    services,
    started_inputs,
    workflow_run,
)
from app.services.workflows.start_form import check_inputs


async def start_chatflow(runtime: Runtime, app: App, command: GenerateCommand) -> Generation:
    check_mode(app, command.kind)
    async with active_request_slot(runtime, app) as request_id:
        return await _launch(runtime, app, command, request_id)


async def _launch(
    runtime: Runtime, app: App, command: GenerateCommand, request_id: str
) -> Generation:
    settings = runtime.settings
    # Dify picks the workflow (a `workflow_id`'s 404 / 400 included) before any other check.
    version = await runnable_version(app, command.workflow_id or None)
    if not command.query:
        raise errors.InvalidParam("query is required")
    end_user = await end_users.get_or_create(app.id, command.user)
    conversation = await owned_conversation(app, end_user, command.conversation_id)
    workflow = version.workflow
    features = feature_blocks(app.app_mode, version.dsl)
    request_files, _ = await resolve_files(app.id, features, command.files)
    inputs = await check_inputs(settings, app.id, workflow, command.inputs)
    history = await load_history(conversation.id) if conversation else []
    turns_before = await earlier_turns(conversation.id) if conversation else 0
    query = command.query.replace("\x00", "")

    new_conversation = None
    if conversation is None:
        opening = str(features.get("opening_statement") or "")
        new_conversation = Conversation(
            app_id=app.id,
            from_end_user_id=end_user.id,
            mode=app.mode,
            inputs=plain(inputs),
            introduction=render(opening, template_values(plain(inputs))),
        )
    conversation_row = conversation or new_conversation
    assert conversation_row is not None
    run_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    message = Message(
        app_id=app.id,
        conversation_id=conversation_row.id,
        from_end_user_id=end_user.id,
        parent_message_id=NIL_PARENT,
        inputs=plain(inputs),
        query=query,
        task_id=task_id,
        workflow_run_id=run_id,
        is_running=True,
        worker_id=runtime.registry.worker_id,
        created_at=utcnow(),
    )
    await create_records(
        conversation=conversation, new_conversation=new_conversation, message=message
    )
    await attach_files(message.id, end_user.id, request_files)
    conversation_values = await load_conversation_variables(
        app.id, conversation_row.id, declared_variables(workflow)
    )
    system = {
        "query": query,
        "files": [file_value(settings, f) for f in request_files],
        "conversation_id": conversation_row.id,
        "user_id": end_user.session_id,
        "dialogue_count": turns_before + 1,
        "app_id": app.id,
        "workflow_id": version.id,
        "workflow_run_id": run_id,
    }
    pool = build_pool(app.app_mode, system, workflow, conversation_values)
    await create_run(
        WorkflowRunRow(
            id=run_id,
            app_id=app.id,
            workflow_id=version.id,
            type="chat",
            inputs=plain(inputs),
            created_by=end_user.id,
            task_id=task_id,
            conversation_id=conversation_row.id,
            message_id=message.id,
            worker_id=runtime.registry.worker_id,
        ),
        log=False,
    )
    ctx = MessageStreamContext(
        task_id=task_id,
        message_id=message.id,
        conversation_id=conversation_row.id,
        created_at=timestamp(message.created_at) or 0,
    )
    handle = await runtime.registry.register(task_id, f"end-user-{end_user.id}")
    channel = EventChannel()
    run_services = services(runtime, app.id, end_user.id)
    run_services.save_conversation_variable = variable_saver(conversation_row.id)
    task = GraphTask(
        app_id=app.id,
        request_id=request_id,
        version=version,
        workflow=workflow_run(
            runtime, app, version, (run_id, task_id), inputs, run_services, history=history
        ),
        pool=pool,
        stream=WorkflowStream(task_id, run_id, ctx, pool.secrets),
        channel=channel,
        stop=handle.stop_requested,
        created_by={"id": end_user.id, "user": end_user.session_id},
        created_at=int(time.time()),
        started_inputs=started_inputs(inputs, system),
        features=features,
        speak=command.streaming,
    )
    running = asyncio.create_task(run_graph_task(runtime, task), name=f"chatflow-{task_id}")
    runtime.track(running)
    if new_conversation is not None and command.auto_generate_name:
        schedule_auto_name(runtime, app, new_conversation.id, message.id, query, running)
    return Generation(ctx, app.mode, channel)
