"""Dify's trigger endpoint: `/triggers/webhook/{webhook_id}` for every method a webhook
node may name (a call with another method is the node's 400). No API key: the webhook id
is the secret, as in Dify."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.deps import RuntimeDep
from app.api.webhook_call import read_call
from app.core.errors import DifyError
from app.services.triggers.webhooks import receive

logger = logging.getLogger("kiln.triggers")
router = APIRouter(prefix="/triggers", tags=["triggers"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/webhook/{webhook_id}", methods=METHODS)
async def webhook(webhook_id: str, request: Request, runtime: RuntimeDep) -> JSONResponse:
    call, body_error = await read_call(request, runtime.settings)
    try:
        answer = await receive(runtime, webhook_id, call, body_error)
    except DifyError:
        raise  # an unknown webhook's 404, in Dify's error body
    except Exception:
        logger.exception("webhook %s failed", webhook_id)
        body = {"error": "Internal server error", "message": "An internal error has occurred."}
        return JSONResponse(body, 500)
    if answer.run_id is not None:
        logger.info("webhook %s started workflow run %s", webhook_id, answer.run_id)
    return JSONResponse(answer.body, answer.status)
