"""Feedback on messages, suggested follow-up questions, and the app's feedback list."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.body import parse_model, read_json, required_user
from app.api.deps import AppDep, RuntimeDep
from app.api.params import check_chat_family, path_uuid
from app.core.errors import InvalidParam
from app.schemas.feedback import FeedbackList, MessageFeedbackPayload
from app.services import feedback, suggestions

router = APIRouter(tags=["messages"])


@router.post("/messages/{message_id}/feedbacks")
async def post_feedback(message_id: str, request: Request, app: AppDep) -> dict[str, str]:
    message_id = path_uuid(message_id)
    data = await read_json(request)
    user = required_user(data)
    payload = parse_model(MessageFeedbackPayload, data)
    await feedback.submit(app.id, user, message_id, payload.rating, payload.content)
    return {"result": "success"}


@router.get("/app/feedbacks")
async def app_feedbacks(
    app: AppDep,
    page: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=101)] = 20,
) -> FeedbackList:
    return await feedback.app_feedbacks(app.id, page, limit)


@router.get("/messages/{message_id}/suggested")
async def suggested_questions(
    message_id: str, app: AppDep, runtime: RuntimeDep, user: str | None = None
) -> dict[str, object]:
    message_id = path_uuid(message_id)
    if not user:
        raise InvalidParam("Arg user must be provided.")
    check_chat_family(app)
    data = await suggestions.suggested(runtime, app, user, message_id)
    return {"result": "success", "data": data}
