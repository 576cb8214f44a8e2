"""Conversations of the calling end user: list, rename, delete, variables; and the message
history (chat-family apps only)."""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.body import optional_user, parse_model, read_json
from app.api.deps import AppDep, RuntimeDep
from app.api.params import check_chat_family, optional_json
from app.core.errors import InvalidParam
from app.schemas.common import optional_uuid
from app.schemas.conversation import (
    ConversationItem,
    ConversationListQuery,
    ConversationPage,
    MessagePage,
    RenamePayload,
)
from app.schemas.conversation_variable import (
    ConversationVariableItem,
    ConversationVariablePage,
    ConversationVariablesQuery,
    ConversationVariableUpdatePayload,
)
from app.schemas.queries import MessageListQuery
from app.services.conversations import crud as conversations
from app.services.conversations import messages
from app.services.conversations import naming as conversation_naming
from app.services.conversations import variables as conversation_variables

router = APIRouter(tags=["conversations"])


def _uuid_or_none(value: str | None, name: str) -> str | None:
    try:
        return optional_uuid(value, name)
    except ValueError as exc:
        raise InvalidParam(str(exc)) from None


@router.get("/conversations")
async def list_conversations(
    request: Request, app: AppDep, user: str | None = None
) -> ConversationPage:
    check_chat_family(app)
    query = parse_model(ConversationListQuery, dict(request.query_params))
    return await conversations.list_page(app.id, user, query.last_id, query.limit, query.sort_by)


@router.post("/conversations/{conversation_id:dify_uuid}/name")
async def rename_conversation(
    conversation_id: str, request: Request, app: AppDep, runtime: RuntimeDep
) -> ConversationItem:
    data = await read_json(request)
    user = optional_user(data)
    check_chat_family(app)
    payload = parse_model(RenamePayload, data)
    if payload.auto_generate:
        renamed = await conversation_naming.auto_generate(runtime, app, user, conversation_id)
        return ConversationItem.of(renamed)
    if payload.name is None or not payload.name.strip():
        raise InvalidParam("name is required when auto_generate is false")
    return ConversationItem.of(
        await conversations.rename(app.id, user, conversation_id, payload.name)
    )


@router.delete("/conversations/{conversation_id:dify_uuid}", status_code=204)
async def delete_conversation(conversation_id: str, request: Request, app: AppDep) -> Response:
    user = optional_user(await optional_json(request))
    check_chat_family(app)
    await conversations.delete_owned(app.id, user, conversation_id)
    return Response(status_code=204)


@router.get("/conversations/{conversation_id:dify_uuid}/variables")
async def list_variables(
    conversation_id: str,
    app: AppDep,
    user: str | None = None,
    last_id: str | None = None,
    limit: str | None = None,
    variable_name: str | None = None,
) -> ConversationVariablePage:
    check_chat_family(app)
    raw: dict[str, Any] = {"last_id": last_id, "variable_name": variable_name}
    if limit is not None:
        raw["limit"] = limit
    query = parse_model(ConversationVariablesQuery, raw)
    cursor = _uuid_or_none(query.last_id, "last_id")
    return await conversation_variables.list_page(
        app.id, user, conversation_id, cursor, query.limit, query.variable_name
    )


@router.put("/conversations/{conversation_id:dify_uuid}/variables/{variable_id:dify_uuid}")
async def update_variable(
    conversation_id: str, variable_id: str, request: Request, app: AppDep
) -> ConversationVariableItem:
    data = await read_json(request)
    user = optional_user(data)
    check_chat_family(app)
    payload = parse_model(ConversationVariableUpdatePayload, data)
    return await conversation_variables.update(
        app.id, user, conversation_id, variable_id, payload.value
    )


@router.get("/messages")
async def list_messages(
    app: AppDep,
    request: Request,
    user: str | None = None,
) -> MessagePage:
    check_chat_family(app)  # before the query, as Dify checks the mode first
    query = parse_model(MessageListQuery, dict(request.query_params))
    return await messages.list_page(
        app.id, user, query.conversation_id or "", query.first_id, query.limit
    )
