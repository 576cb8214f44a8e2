"""Feedback on messages, suggested follow-up questions, and the app's feedback list."""

from fastapi import APIRouter, Request

from app.api.body import parse_model, read_json, required_user
from app.api.deps import AppDep, RuntimeDep
from app.api.params import check_chat_family
from app.core.errors import InvalidParam
from app.schemas.feedback import FeedbackList, MessageFeedbackPayload
from app.schemas.queries import FeedbackListQuery
from app.services.conversations import feedback, suggestions

router = APIRouter(tags=["messages"])


@router.post("/messages/{message_id:dify_uuid}/feedbacks")
async def post_feedback(message_id: str, request: Request, app: AppDep) -> dict[str, str]:
    data = await read_json(request)
    user = required_user(data)
    payload = parse_model(MessageFeedbackPayload, data)
    await feedback.submit(app.id, user, message_id, payload.rating, payload.content)
    return {"result": "success"}


@router.get("/app/feedbacks")
async def app_feedbacks(request: Request, app: AppDep) -> FeedbackList:
    query = parse_model(FeedbackListQuery, dict(request.query_params))
    return await feedback.app_feedbacks(app.id, query.page, query.limit)


@router.get("/messages/{message_id:dify_uuid}/suggested")
async def suggested_questions(
    message_id: str, app: AppDep, runtime: RuntimeDep, user: str | None = None
) -> dict[str, object]:
    if not user:
        raise InvalidParam("Arg user must be provided.")
    check_chat_family(app)
    data = await suggestions.suggested(runtime, app, user, message_id)
    return {"result": "success", "data": data}
